// SPDX-License-Identifier: MIT
// Distributed ALS and batch inference, run by CTest under mpirun with 2 and 4 ranks: the same
// factors and the same output as one process, and a failing rank failing every rank.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/sample.hpp"
#include "tailor/distributed/als.hpp"
#include "tailor/distributed/batch.hpp"
#include "tailor/distributed/collective.hpp"
#include "tailor/error.hpp"
#include "tailor/serving/live_group.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor {
namespace {

namespace fs = std::filesystem;

int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int ranks() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// The sample interactions as ALS trains on them.
const TrainingData& sample_data() {
  static const TrainingData data = [] {
    DatasetGroup g = test::sample_group(false, false);
    Solution s({"als", "user-personalization", "{}", {}});
    EventColumns e = s.select_events(g);
    return TrainingData::build(g.user_ids().size(), g.item_ids().size(), std::move(e.users),
                               std::move(e.items), std::move(e.timestamps), std::move(e.weights));
  }();
  return data;
}

// max |a − b| over max |a|.
double relative_difference(const FactorMatrix& a, const FactorMatrix& b) {
  return (a - b).cwiseAbs().maxCoeff() / a.cwiseAbs().maxCoeff();
}

// Whether every rank passed `ok`.
bool all(bool ok) {
  int mine = ok ? 1 : 0, every = 0;
  MPI_Allreduce(&mine, &every, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return every == 1;
}

TEST(DistributedAls, RunsOnSeveralRanks) {
  // The CTest jobs start 2 and 4 ranks: a job of one would test nothing distributed.
  EXPECT_GE(ranks(), 2);
}

TEST(DistributedAls, FactorsMatchTheSingleProcessFit) {
  for (const char* params : {R"({"factors": 16, "iterations": 8})",
                             R"({"factors": 8, "iterations": 3, "solver": "cholesky"})"}) {
    SCOPED_TRACE(params);
    const AlsParams p = AlsParams::from_json(params);
    TrainContext context;
    context.execution.seed = 7;
    auto single = AlsRecipe(p).train(sample_data(), context);
    const auto& one = dynamic_cast<const AlsModel&>(*single);
    distributed::AlsTrainStats stats;
    auto many = distributed::train_als(MPI_COMM_WORLD, p,
                                       distributed::shard_of(sample_data(), rank(), ranks()),
                                       context, "user-personalization", &stats);
    EXPECT_LE(relative_difference(one.user_factors(), many->user_factors()), 1e-4);
    EXPECT_LE(relative_difference(one.item_factors(), many->item_factors()), 1e-4);
    EXPECT_EQ(many->recipe(), "user-personalization");
    EXPECT_EQ(stats.ranks, ranks());
    EXPECT_EQ(stats.iterations, p.iterations);
    EXPECT_GT(stats.ring_bytes_per_iteration, 0u);
    // Another seed gives other factors: the comparison can fail.
    context.execution.seed = 8;
    auto other = distributed::train_als(
        MPI_COMM_WORLD, p, distributed::shard_of(sample_data(), rank(), ranks()), context);
    EXPECT_GT(relative_difference(one.user_factors(), other->user_factors()), 1e-2);
  }
}

TEST(DistributedAls, ShardsTileTheMatrixAndBalanceInteractions) {
  const TrainingData& d = sample_data();
  Index next_user = 0, next_item = 0;
  std::size_t nnz = 0;
  for (int r = 0; r < ranks(); ++r) {
    const distributed::AlsShard s = distributed::shard_of(d, r, ranks());
    EXPECT_EQ(s.user_begin, next_user);
    EXPECT_EQ(s.item_begin, next_item);
    next_user = s.user_end;
    next_item = s.item_end;
    nnz += s.user_items.size();
    // About an equal share each (the sample's rows are small next to the total).
    EXPECT_LT(s.user_items.size(), 2 * d.nnz() / ranks());
    EXPECT_EQ(s.user_offsets.back(), s.user_items.size());
  }
  EXPECT_EQ(next_user, d.num_users);
  EXPECT_EQ(next_item, d.num_items);
  EXPECT_EQ(nnz, d.nnz());
  EXPECT_THROW(distributed::shard_of(d, ranks(), ranks()), Error);
}

TEST(DistributedAls, ShardsThatDoNotTileAreRefusedOnEveryRank) {
  // Every rank claims the first rank's users.
  distributed::AlsShard s = distributed::shard_of(sample_data(), 0, ranks());
  const distributed::AlsShard mine = distributed::shard_of(sample_data(), rank(), ranks());
  s.item_begin = mine.item_begin;
  s.item_end = mine.item_end;
  s.item_offsets = mine.item_offsets;
  s.item_users = mine.item_users;
  s.item_values = mine.item_values;
  try {
    distributed::train_als(MPI_COMM_WORLD, AlsParams::from_json(R"({"factors": 4})"), s, {});
    ADD_FAILURE() << "overlapping shards were accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("do not tile"), std::string::npos) << e.what();
  }
}

TEST(DistributedAls, ARankThatFailsMidJobFailsEveryRank) {
  ::setenv("TAILOR_MPI_FAIL_AT", "1:2", 1);
  bool threw = false;
  std::string message;
  try {
    distributed::train_als(MPI_COMM_WORLD, AlsParams::from_json(R"({"factors": 8})"),
                           distributed::shard_of(sample_data(), rank(), ranks()), {});
  } catch (const Error& e) {
    threw = true;
    message = e.what();
  }
  ::unsetenv("TAILOR_MPI_FAIL_AT");
  EXPECT_TRUE(threw);
  EXPECT_TRUE(distributed::failed_together());
  const std::string expected = rank() == 1 ? "failed at iteration 2" : "rank 1 failed";
  EXPECT_NE(message.find(expected), std::string::npos) << message;
  // The ranks are still in step: a fit after the failure works.
  auto model = distributed::train_als(MPI_COMM_WORLD, AlsParams::from_json(R"({"factors": 4})"),
                                      distributed::shard_of(sample_data(), rank(), ranks()), {});
  EXPECT_EQ(model->num_users(), sample_data().num_users);
}

TEST(DistributedAls, SolutionTrainsTheRecipeOverMpiWithMetrics) {
  const std::string params = R"({"factors": 8, "iterations": 4})";
  DatasetGroup g = test::sample_group(false, false);
  TrainOptions o;
  o.execution.seed = 3;
  Solution single({"s", "user-personalization", params, {}});
  Solution many({"s", "aws-user-personalization", params, {}},
                std::make_shared<distributed::DistributedAlsRecipe>(MPI_COMM_WORLD,
                                                                    AlsParams::from_json(params)));
  const SolutionVersion a = single.train(g, o), b = many.train(g, o);
  const auto& ma = dynamic_cast<const AlsModel&>(*a.model());
  const auto& mb = dynamic_cast<const AlsModel&>(*b.model());
  EXPECT_LE(relative_difference(ma.user_factors(), mb.user_factors()), 1e-4);
  ASSERT_TRUE(a.metrics() && b.metrics());
  EXPECT_NEAR(a.metrics()->normalized_discounted_cumulative_gain_at_10,
              b.metrics()->normalized_discounted_cumulative_gain_at_10, 1e-3);
  // A recipe of another name is refused.
  EXPECT_THROW(Solution({"s", "sims", "{}", {}},
                        std::make_shared<distributed::DistributedAlsRecipe>(MPI_COMM_WORLD)),
               Error);
}

TEST(DistributedAls, LearnsTheItemMetadataMappingAsOneProcessDoes) {
  const std::string params = R"({"factors": 8, "iterations": 4})";
  DatasetGroup g = test::sample_group(false, true);
  TrainOptions o;
  o.execution.seed = 3;
  o.compute_metrics = false;
  auto distributed_solution = [&](const std::string& p) {
    return Solution({"s", "user-personalization", p, {}},
                    std::make_shared<distributed::DistributedAlsRecipe>(MPI_COMM_WORLD,
                                                                        AlsParams::from_json(p)));
  };
  const SolutionVersion a = Solution({"s", "user-personalization", params, {}}).train(g, o);
  const SolutionVersion b = distributed_solution(params).train(g, o);
  const auto& ma = dynamic_cast<const AlsModel&>(*a.model());
  const auto& mb = dynamic_cast<const AlsModel&>(*b.model());
  ASSERT_TRUE(ma.metadata() && mb.metadata());
  const auto& wa = ma.metadata()->weights;
  const auto& wb = mb.metadata()->weights;
  ASSERT_EQ(wa.rows(), wb.rows());
  ASSERT_EQ(wa.cols(), wb.cols());
  EXPECT_LE((wa - wb).cwiseAbs().maxCoeff() / wa.cwiseAbs().maxCoeff(), 1e-3);
  // Told not to, the distributed fit maps nothing either.
  const SolutionVersion c =
      distributed_solution(R"({"factors": 8, "iterations": 4, "item_metadata": false})")
          .train(g, o);
  EXPECT_FALSE(dynamic_cast<const AlsModel&>(*c.model()).metadata());
}

// Batch inference: rank 0's output is the single-process job's, byte for byte.
struct BatchFiles {
  std::string in, single, many;
  BatchFiles() {
    // Every rank names the files after rank 0's process id.
    int pid = static_cast<int>(::getpid());
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    const std::string base =
        (fs::temp_directory_path() / ("tailor-mpi-batch-" + std::to_string(pid))).string();
    in = base + ".in";
    single = base + ".single";
    many = base + ".many";
    if (rank() == 0) {
      std::ofstream f(in);
      for (int u = 0; u < 97; ++u) {
        char id[24];
        std::snprintf(id, sizeof id, "user-%04d", u * 5);
        f << "{\"userId\":\"" << id << "\",\"numResults\":" << (u % 7) + 1 << "}\n";
      }
      f << "{broken\n\n{\"itemId\":\"item-0003\"}\n";
      f << "{\"userId\":\"user-0002\",\"itemList\":[\"item-0001\",\"item-0009\"]}\n";
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  ~BatchFiles() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank() == 0) {
      for (const auto& p : {in, single, many}) fs::remove(p);
    }
  }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::unique_ptr<Campaign> sample_campaign() {
  auto live = std::make_shared<LiveDatasetGroup>(test::sample_group(false));
  Solution solution({"s", "user-personalization", R"({"factors": 8, "iterations": 3})", {}});
  TrainOptions o;
  o.compute_metrics = false;
  SolutionVersion v = live->read([&](const DatasetGroup& d) { return solution.train(d, o); });
  return std::make_unique<Campaign>(live, solution, std::move(v));
}

TEST(DistributedBatch, WritesTheSingleProcessOutputInInputOrder) {
  auto campaign = sample_campaign();
  BatchFiles files;
  BatchOptions options;
  options.num_results = 5;
  options.lines_per_block = 7;  // several blocks, each split across the ranks
  unsigned long long single_failed = 0;
  if (rank() == 0) {
    single_failed = run_batch_inference(*campaign, files.in, files.single, options).failed;
  }
  MPI_Bcast(&single_failed, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  const BatchReport r =
      distributed::run_batch_inference(MPI_COMM_WORLD, *campaign, files.in, files.many, options);
  EXPECT_EQ(r.lines_read, 100u);
  // The broken line, and the item line (user-personalization answers users), on every rank.
  EXPECT_EQ(r.failed, 2u);
  EXPECT_EQ(r.failed, single_failed);
  EXPECT_EQ(r.succeeded, 98u);
  if (rank() == 0) {
    const std::string expected = slurp(files.single);
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(slurp(files.many), expected);
  }
}

TEST(DistributedBatch, ARankThatFailsLeavesNoOutput) {
  auto campaign = sample_campaign();
  BatchFiles files;
  BatchOptions options;
  options.lines_per_block = 5;
  ::setenv("TAILOR_MPI_FAIL_AT", "1:2", 1);
  bool threw = false;
  try {
    distributed::run_batch_inference(MPI_COMM_WORLD, *campaign, files.in, files.many, options);
  } catch (const Error&) {
    threw = true;
  }
  ::unsetenv("TAILOR_MPI_FAIL_AT");
  EXPECT_TRUE(all(threw));
  if (rank() == 0) {
    EXPECT_FALSE(fs::exists(files.many));
    for (const auto& e : fs::directory_iterator(fs::path(files.many).parent_path())) {
      EXPECT_EQ(e.path().string().rfind(files.many, 0), std::string::npos)
          << "left behind: " << e.path();
    }
  }
}

TEST(DistributedBatch, BadPathsAreRefusedOnEveryRank) {
  auto campaign = sample_campaign();
  BatchFiles files;
  bool refused = false;
  try {
    distributed::run_batch_inference(MPI_COMM_WORLD, *campaign, files.in, files.in, {});
  } catch (const Error& e) {
    // Rank 0 checks the paths; the others hear that it failed.
    refused = e.code() == (rank() == 0 ? ErrorCode::InvalidArgument : ErrorCode::Internal);
  }
  EXPECT_TRUE(all(refused));
}

}  // namespace
}  // namespace tailor

// MPI around GoogleTest: every rank runs every test (the collectives need them all); only rank 0
// prints the results.
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0, any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any;
}
