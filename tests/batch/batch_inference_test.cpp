// SPDX-License-Identifier: MIT
// Batch inference: order, per-line errors and filters, bounded blocks, no half files.
#include "tailor/batch/batch_inference.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/sample.hpp"
#include "io/json.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Campaign> make_campaign(const char* recipe) {
  auto live = std::make_shared<LiveDatasetGroup>(test::sample_group(/*users=*/false));
  const char* params = std::string(recipe) == "sims" ? "{}" : R"({"factors": 8, "iterations": 3})";
  Solution solution({recipe, recipe, params, {}});
  TrainOptions o;
  o.compute_metrics = false;
  SolutionVersion v = live->read([&](const DatasetGroup& d) { return solution.train(d, o); });
  return std::make_unique<Campaign>(live, solution, std::move(v));
}

std::vector<detail::Json> read_lines(const std::string& path) {
  std::vector<detail::Json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(detail::parse_json(line, "output line"));
  return out;
}

TEST(BatchInference, AnswersEveryLineInOrderWithPerLineErrors) {
  auto campaign = make_campaign("user-personalization");
  const std::string base = (fs::temp_directory_path() / ("tailor-batch-" + std::to_string(::getpid()))).string();
  const std::string in = base + ".in", out = base + ".out";
  {
    std::ofstream f(in);
    for (int u = 0; u < 25; ++u) {
      char id[16];
      std::snprintf(id, sizeof id, "user-%04d", u);
      f << "{\"userId\":\"" << id << "\"}\n";
    }
    f << "{\"userId\":\"user-0001\",\"filterValues\":{\"C\":\"\\\"Finance Hub\\\"\"}}\n";
    f << "{broken\n";
    f << "\n";  // blank lines are skipped
    f << "{\"userId\":\"user-0001\",\"colour\":\"red\"}\n";
    f << "{\"userId\":\"user-0001\",\"numResults\":501}\n";
    f << "{\"itemList\":[\"item-0001\"]}\n";
  }
  BatchOptions options;
  options.num_results = 3;
  options.lines_per_block = 4;  // several blocks: order must hold across them
  options.execution.num_threads = 2;
  options.filter = campaign->group()->read([](const DatasetGroup& g) {
    return std::make_shared<const Filter>(Filter::compile(R"(EXCLUDE ItemID WHERE Items.COMMUNITY IN ($C))", g));
  });
  std::size_t progress_calls = 0;
  BatchReport r = run_batch_inference(*campaign, in, out, options, [&](std::size_t) { ++progress_calls; });
  EXPECT_EQ(r.lines_read, 30u);
  EXPECT_EQ(r.succeeded, 26u);
  EXPECT_EQ(r.failed, 4u);
  EXPECT_GE(progress_calls, 7u);
  const auto rows = read_lines(out);
  ASSERT_EQ(rows.size(), 30u);
  for (int u = 0; u < 25; ++u) {
    char id[16];
    std::snprintf(id, sizeof id, "user-%04d", u);
    ASSERT_EQ(rows[u].find("input")->find("userId")->as_string(), id);
    ASSERT_EQ(rows[u].find("output")->find("recommendedItems")->items().size(), 3u);
  }
  // The per-line filter value excluded Finance Hub items (checked by id pattern of the data:
  // item index % 8 == 4 is a Finance item).
  for (const auto& item : rows[25].find("output")->find("recommendedItems")->items()) {
    EXPECT_NE(std::stoi(item.as_string().substr(5)) % 8, 4) << item.as_string();
  }
  EXPECT_TRUE(rows[26].find("input")->is_string());  // the broken line, echoed as text
  EXPECT_NE(rows[27].find("error")->as_string().find("unknown key \"colour\""), std::string::npos);
  EXPECT_NE(rows[28].find("error")->as_string().find("numResults"), std::string::npos);
  EXPECT_NE(rows[29].find("error")->as_string().find("needs a userId"), std::string::npos);
  EXPECT_FALSE(fs::exists(out + ".tmp"));

  // A failing job leaves no output at all.
  fs::remove(out);
  EXPECT_THROW(run_batch_inference(*campaign, base + ".missing", out, options), Error);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  fs::remove(in);
}

TEST(BatchInference, SimilarItemsLinesHaveNoScores) {
  auto campaign = make_campaign("sims");
  const std::string base = (fs::temp_directory_path() / ("tailor-batch-sims-" + std::to_string(::getpid()))).string();
  std::ofstream(base + ".in") << "{\"itemId\":\"item-0000\"}\n{\"itemId\":\"nope\"}\n";
  BatchReport r = run_batch_inference(*campaign, base + ".in", base + ".out", BatchOptions{});
  EXPECT_EQ(r.succeeded, 1u);
  const auto rows = read_lines(base + ".out");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].find("output")->find("scores"), nullptr);
  EXPECT_EQ(rows[0].find("output")->find("recommendedItems")->items().size(), 25u);
  EXPECT_NE(rows[1].find("error")->as_string().find("not in the dataset group"), std::string::npos);
  fs::remove(base + ".in");
  fs::remove(base + ".out");
}

}  // namespace
}  // namespace tailor
