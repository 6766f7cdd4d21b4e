// SPDX-License-Identifier: MIT
// Distributed ALS: the single-process fit's sweeps, each rank solving its block of rows (see
// tailor/distributed/als.hpp for the partitioning and its communication).
#include "tailor/distributed/als.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>

#include "recipes/als/als_kernels.hpp"
#include "recipes/als/als_simd.hpp"
#include "tailor/distributed/collective.hpp"
#include "tailor/error.hpp"

namespace tailor::distributed {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Block boundary r of `rows` rows split into `ranks` blocks of about equal interactions plus rows:
// the first row whose cumulative cost reaches r/ranks of the total.
Index boundary(const std::vector<std::size_t>& offsets, Index rows, int r, int ranks) {
  if (r >= ranks) return rows;
  const long double total = static_cast<long double>(offsets[rows]) + rows;
  const long double target = total * r / ranks;
  Index lo = 0, hi = rows;
  while (lo < hi) {
    const Index mid = lo + (hi - lo) / 2;
    if (static_cast<long double>(offsets[mid]) + mid < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// Rows [begin, end) of a CSR matrix, offsets rebased to 0.
void copy_rows(const std::vector<std::size_t>& offsets, const std::vector<Index>& indices,
               const std::vector<float>& values, Index begin, Index end,
               std::vector<std::size_t>& out_offsets, std::vector<Index>& out_indices,
               std::vector<float>& out_values) {
  const std::size_t first = offsets[begin], last = offsets[end];
  out_offsets.resize(static_cast<std::size_t>(end - begin) + 1);
  for (Index r = begin; r <= end; ++r) out_offsets[r - begin] = offsets[r] - first;
  out_indices.assign(indices.begin() + first, indices.begin() + last);
  out_values.assign(values.begin() + first, values.begin() + last);
}

// The test hook of the failure tests: TAILOR_MPI_FAIL_AT="RANK:ITERATION" makes that rank throw
// at the start of that iteration (1-based), as a rank that runs out of memory would.
void maybe_fail(int rank, int iteration) {
  const char* spec = std::getenv("TAILOR_MPI_FAIL_AT");
  if (!spec) return;
  const std::string s(spec);
  const auto colon = s.find(':');
  if (colon == std::string::npos) return;
  if (std::atoi(s.substr(0, colon).c_str()) == rank &&
      std::atoi(s.substr(colon + 1).c_str()) == iteration) {
    TAILOR_THROW(ErrorCode::Internal, "rank ", rank, " failed at iteration ", iteration,
                 " (TAILOR_MPI_FAIL_AT)");
  }
}

// Per-rank [begin, end) of a block partition, gathered and checked to tile [0, total).
struct Blocks {
  std::vector<int> counts, displs;  // in rows
};

Blocks gather_blocks(MPI_Comm comm, Index begin, Index end, Index total, const char* what) {
  int ranks = 0;
  MPI_Comm_size(comm, &ranks);
  const unsigned long long mine[2] = {begin, end};
  std::vector<unsigned long long> all(2 * static_cast<std::size_t>(ranks));
  MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all.data(), 2, MPI_UNSIGNED_LONG_LONG, comm);
  Blocks b;
  unsigned long long expected = 0;
  for (int r = 0; r < ranks; ++r) {
    const unsigned long long lo = all[2 * r], hi = all[2 * r + 1];
    TAILOR_THROW_IF(lo != expected || hi < lo || hi - lo > 2147483647ull,
                    ErrorCode::InvalidArgument, "distributed ALS: the ranks' ", what,
                    " blocks do not tile [0, ", total, "): rank ", r, " holds [", lo, ", ", hi,
                    ")");
    b.counts.push_back(static_cast<int>(hi - lo));
    b.displs.push_back(static_cast<int>(lo));
    expected = hi;
  }
  TAILOR_THROW_IF(expected != total, ErrorCode::InvalidArgument, "distributed ALS: the ranks' ",
                  what, " blocks end at ", expected, ", not at ", total);
  return b;
}

}  // namespace

AlsShard shard_of(const TrainingData& data, int rank, int ranks) {
  TAILOR_THROW_IF(ranks < 1 || rank < 0 || rank >= ranks, ErrorCode::InvalidArgument,
                  "shard_of: rank ", rank, " is not in [0, ", ranks, ")");
  AlsShard s;
  s.num_users = data.num_users;
  s.num_items = data.num_items;
  s.user_begin = boundary(data.user_offsets, data.num_users, rank, ranks);
  s.user_end = boundary(data.user_offsets, data.num_users, rank + 1, ranks);
  s.item_begin = boundary(data.item_offsets, data.num_items, rank, ranks);
  s.item_end = boundary(data.item_offsets, data.num_items, rank + 1, ranks);
  copy_rows(data.user_offsets, data.user_items, data.user_values, s.user_begin, s.user_end,
            s.user_offsets, s.user_items, s.user_values);
  copy_rows(data.item_offsets, data.item_users, data.item_values, s.item_begin, s.item_end,
            s.item_offsets, s.item_users, s.item_values);
  return s;
}

std::unique_ptr<AlsModel> train_als(MPI_Comm comm, const AlsParams& params, const AlsShard& shard,
                                    const TrainContext& context, std::string recipe,
                                    AlsTrainStats* stats) {
  const auto start = Clock::now();
  params.validate();
  TAILOR_THROW_IF(params.compute_loss, ErrorCode::InvalidArgument,
                  "distributed ALS does not compute the loss (compute_loss must be false)");
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  AlsTrainStats st;
  st.ranks = ranks;
  // Compute is timed where it runs (Gram kernel, row solves); the rest of the loop is
  // communication, waiting for slower ranks included.
  double compute = 0;
  auto timed = [&](auto&& work) {
    const auto t = Clock::now();
    work();
    compute += seconds_since(t);
  };

  // The shape, agreed: every rank must see the same matrix.
  const unsigned long long shape[2] = {shard.num_users, shard.num_items};
  unsigned long long lowest[2], highest[2];
  MPI_Allreduce(shape, lowest, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm);
  MPI_Allreduce(shape, highest, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
  TAILOR_THROW_IF(lowest[0] != highest[0] || lowest[1] != highest[1], ErrorCode::InvalidArgument,
                  "distributed ALS: the ranks disagree on the matrix's shape");
  const Blocks user_blocks =
      gather_blocks(comm, shard.user_begin, shard.user_end, shard.num_users, "user");
  const Blocks item_blocks =
      gather_blocks(comm, shard.item_begin, shard.item_end, shard.num_items, "item");
  const Index my_users = shard.user_end - shard.user_begin;
  const Index my_items = shard.item_end - shard.item_begin;
  collective_step(comm, [&] {
    TAILOR_THROW_IF(shard.user_offsets.size() != static_cast<std::size_t>(my_users) + 1 ||
                        shard.item_offsets.size() != static_cast<std::size_t>(my_items) + 1 ||
                        shard.user_offsets.front() != 0 || shard.item_offsets.front() != 0 ||
                        shard.user_items.size() != shard.user_offsets.back() ||
                        shard.user_values.size() != shard.user_offsets.back() ||
                        shard.item_users.size() != shard.item_offsets.back() ||
                        shard.item_values.size() != shard.item_offsets.back(),
                    ErrorCode::InvalidArgument, "distributed ALS: rank ", rank,
                    "'s shard is not a CSR matrix of its blocks");
    for (Index i : shard.user_items) {
      TAILOR_THROW_IF(i >= shard.num_items, ErrorCode::InvalidArgument, "distributed ALS: item ", i,
                      " out of range");
    }
    for (Index u : shard.item_users) {
      TAILOR_THROW_IF(u >= shard.num_users, ErrorCode::InvalidArgument, "distributed ALS: user ", u,
                      " out of range");
    }
  });
  unsigned long long nnz = shard.user_items.size(), total_nnz = 0;
  MPI_Allreduce(&nnz, &total_nnz, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
  TAILOR_THROW_IF(total_nnz == 0, ErrorCode::InvalidArgument, recipe,
                  ": no interactions to train on");

  // The single-process fit's initial factors, drawn in full on every rank.
  const int f = params.factors;
  std::mt19937_64 rng(context.execution.seed);
  FactorMatrix items(shard.num_items, f);
  FactorMatrix users(shard.num_users, f);
  detail::init_rows(items, 0, params.init_scale, rng);
  detail::init_rows(users, 0, params.init_scale, rng);

  const detail::AlsKernelArgs args =
      detail::AlsKernelArgs::of(params, context.execution.num_threads);

  MPI_Datatype row_type;
  MPI_Type_contiguous(f, MPI_FLOAT, &row_type);
  MPI_Type_commit(&row_type);
  const detail::CsrView user_view{shard.user_offsets.data(), shard.user_items.data(),
                                  shard.user_values.data(), my_users};
  const detail::CsrView item_view{shard.item_offsets.data(), shard.item_users.data(),
                                  shard.item_values.data(), my_items};

  // G = MᵀM + λI over all rows of M, from each rank's rows [begin, begin + count).
  auto gram = [&](const FactorMatrix& M, Index begin, Index count) {
    Eigen::MatrixXf partial = Eigen::MatrixXf::Zero(f, f);
    if (count > 0) {
      timed([&] {
        detail::als_simd().gram(M.data() + static_cast<std::size_t>(begin) * f,
                                static_cast<std::size_t>(count), f, partial.data());
      });
    }
    Eigen::MatrixXd sum = partial.cast<double>();
    MPI_Allreduce(MPI_IN_PLACE, sum.data(), f * f, MPI_DOUBLE, MPI_SUM, comm);
    Eigen::MatrixXf G = sum.cast<float>();
    // Exactly symmetric, as gram_matrix() makes it: the CG relies on it.
    G.triangularView<Eigen::StrictlyUpper>() = G.transpose();
    G.diagonal().array() += params.regularization;
    return G;
  };
  // Solves this rank's rows of X against Y, then gives every rank every row of X.
  auto sweep = [&](FactorMatrix& X, const FactorMatrix& Y, Index y_begin, Index y_count,
                   Index x_begin, const detail::CsrView& view, const Blocks& blocks,
                   int iteration) {
    const Eigen::MatrixXf G = gram(Y, y_begin, y_count);
    collective_step(comm, [&] {
      maybe_fail(rank, iteration);
      timed([&] {
        detail::als_solve_block(X.data() + static_cast<std::size_t>(x_begin) * f, Y, G, view, args);
      });
    });
    MPI_Allgatherv(MPI_IN_PLACE, 0, row_type, X.data(), blocks.counts.data(), blocks.displs.data(),
                   row_type, comm);
  };

  const auto loop = Clock::now();
  try {
    for (int it = 1; it <= params.iterations; ++it) {
      sweep(users, items, shard.item_begin, my_items, shard.user_begin, user_view, user_blocks, it);
      sweep(items, users, shard.user_begin, my_users, shard.item_begin, item_view, item_blocks, it);
      ++st.iterations;
      if (context.progress) {
        TrainingProgress p;
        p.stage = "als";
        p.iteration = it;
        p.total = params.iterations;
        p.elapsed_seconds = seconds_since(start);
        context.progress(p);
      }
    }
  } catch (...) {
    MPI_Type_free(&row_type);
    throw;
  }
  MPI_Type_free(&row_type);

  const double p = ranks;
  const double row_bytes = static_cast<double>(f) * sizeof(float);
  st.own_bytes_per_iteration =
      static_cast<std::uint64_t>((my_users + my_items) * row_bytes + 2.0 * f * f * sizeof(double));
  st.ring_bytes_per_iteration = static_cast<std::uint64_t>(
      (p - 1) / p * (static_cast<double>(shard.num_users) + shard.num_items) * row_bytes +
      2.0 * 2.0 * (p - 1) / p * f * f * sizeof(double));
  st.compute_seconds = compute;
  st.communication_seconds = seconds_since(loop) - compute;
  st.seconds = seconds_since(start);
  if (stats) *stats = st;
  return std::make_unique<AlsModel>(std::move(recipe), params, std::move(users), std::move(items));
}

DistributedAlsRecipe::DistributedAlsRecipe(MPI_Comm comm, AlsParams params, std::string name)
    : AlsRecipe(std::move(params), std::move(name)), comm_(comm) {}

std::unique_ptr<Model> DistributedAlsRecipe::train(const TrainingData& data,
                                                   const TrainContext& context) const {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm_, &rank);
  MPI_Comm_size(comm_, &ranks);
  std::unique_ptr<AlsModel> model =
      train_als(comm_, params(), shard_of(data, rank, ranks), context, name());
  // Every rank holds the whole factors and the whole data: each learns the same metadata mapping
  // as a single-process fit would (rank 0's is the one saved).
  FactorMatrix items = model->item_factors();
  std::shared_ptr<const AttributeMapping> metadata = map_metadata(data, items);
  if (!metadata) return model;
  FactorMatrix users = model->user_factors();
  return std::make_unique<AlsModel>(name(), params(), std::move(users), std::move(items),
                                    std::vector<Index>{}, std::move(metadata));
}

}  // namespace tailor::distributed
