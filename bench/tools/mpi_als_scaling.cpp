// SPDX-License-Identifier: MIT
// Time per iteration of distributed ALS: mpirun -np N tailor_mpi_als_scaling interactions.csv
// [factors] [iterations] [threads per rank]. Every rank reads the CSV (USER_ID and ITEM_ID columns
// first, whole numbers), keeps its shard and trains; rank 0 prints one JSON line: the slowest
// rank's compute and communication seconds per iteration and the bytes a rank sends.
#include <mpi.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "tailor/distributed/als.hpp"

namespace {

// CPU seconds this process has used (all its threads): on a shared machine the wall time of a
// rank depends on the other load, its CPU time much less.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Dense indices for the ids of one column, in order of appearance.
tailor::Index index_of(std::unordered_map<long long, tailor::Index>& ids, long long id) {
  return ids.emplace(id, static_cast<tailor::Index>(ids.size())).first->second;
}

tailor::TrainingData read_csv(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::exit(2);
  }
  std::string line;
  std::getline(in, line);  // header
  std::unordered_map<long long, tailor::Index> users, items;
  std::vector<tailor::Index> us, is;
  std::vector<std::int64_t> ts;
  std::vector<float> ws;
  while (std::getline(in, line)) {
    long long u = 0, i = 0;
    const char* p = line.data();
    const char* end = p + line.size();
    auto r = std::from_chars(p, end, u);
    if (r.ec != std::errc() || r.ptr == end) continue;
    r = std::from_chars(r.ptr + 1, end, i);
    if (r.ec != std::errc()) continue;
    us.push_back(index_of(users, u));
    is.push_back(index_of(items, i));
    ts.push_back(static_cast<std::int64_t>(ts.size()));
    ws.push_back(1.0f);
  }
  return tailor::TrainingData::build(static_cast<tailor::Index>(users.size()),
                                     static_cast<tailor::Index>(items.size()), std::move(us),
                                     std::move(is), std::move(ts), std::move(ws));
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s interactions.csv [factors] [iterations] [threads]\n", argv[0]);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  tailor::AlsParams params;
  params.factors = argc > 2 ? std::atoi(argv[2]) : 64;
  params.iterations = argc > 3 ? std::atoi(argv[3]) : 5;
  tailor::TrainContext context;
  context.execution.num_threads = argc > 4 ? std::atoi(argv[4]) : 0;
  const tailor::TrainingData data = read_csv(argv[1]);
  const tailor::distributed::AlsShard shard = tailor::distributed::shard_of(data, rank, ranks);
  tailor::distributed::AlsTrainStats s;
  MPI_Barrier(MPI_COMM_WORLD);
  const double cpu_before = cpu_seconds();
  tailor::distributed::train_als(MPI_COMM_WORLD, params, shard, context, "user-personalization",
                                 &s);
  const double cpu = cpu_seconds() - cpu_before;
  double cpu_max = 0;
  MPI_Reduce(&cpu, &cpu_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  // The loop alone (compute + communication), without reading and initialisation.
  const double mine[3] = {s.compute_seconds, s.communication_seconds,
                          s.compute_seconds + s.communication_seconds};
  double most[3], least[3];
  MPI_Reduce(mine, most, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  MPI_Reduce(mine, least, 3, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
  unsigned long long own = s.own_bytes_per_iteration, own_max = 0;
  MPI_Reduce(&own, &own_max, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    const double it = s.iterations;
    std::printf(
        "{\"ranks\":%d,\"threads_per_rank\":%d,\"users\":%llu,\"items\":%llu,\"nnz\":%zu,"
        "\"factors\":%d,\"iterations\":%d,\"seconds_per_iteration\":%.4f,"
        "\"compute_per_iteration_max\":%.4f,\"compute_per_iteration_min\":%.4f,"
        "\"communication_per_iteration_max\":%.4f,\"communication_per_iteration_min\":%.4f,"
        "\"cpu_seconds_per_iteration_max\":%.4f,\"own_bytes_per_iteration_max\":%llu,\"ring_bytes_"
        "sent_per_iteration\":%llu}\n",
        ranks, context.execution.num_threads, static_cast<unsigned long long>(data.num_users),
        static_cast<unsigned long long>(data.num_items), data.nnz(), params.factors, s.iterations,
        most[2] / it, most[0] / it, least[0] / it, most[1] / it, least[1] / it, cpu_max / it,
        own_max, static_cast<unsigned long long>(s.ring_bytes_per_iteration));
  }
  MPI_Finalize();
  return 0;
}
