// SPDX-License-Identifier: MIT
// Batch inference: order, per-line errors and filters, bounded blocks, no half files.
#include "tailor/batch/batch_inference.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

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
  const std::string base =
      (fs::temp_directory_path() / ("tailor-batch-" + std::to_string(::getpid()))).string();
  const std::string in = base + ".in", out = base + ".out";
  {
    std::ofstream f(in);
    for (int u = 0; u < 25; ++u) {
      char id[24];
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
    return Filter::compile(R"(EXCLUDE ItemID WHERE Items.COMMUNITY IN ($C))", g);
  });
  std::size_t progress_calls = 0;
  BatchReport r =
      run_batch_inference(*campaign, in, out, options, [&](std::size_t) { ++progress_calls; });
  EXPECT_EQ(r.lines_read, 30u);
  EXPECT_EQ(r.succeeded, 26u);
  EXPECT_EQ(r.failed, 4u);
  EXPECT_GE(progress_calls, 7u);
  const auto rows = read_lines(out);
  ASSERT_EQ(rows.size(), 30u);
  for (int u = 0; u < 25; ++u) {
    char id[24];
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
  const std::string base =
      (fs::temp_directory_path() / ("tailor-batch-sims-" + std::to_string(::getpid()))).string();
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

// A fresh directory for one test, removed at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const char* name)
      : path(fs::temp_directory_path() /
             ("tailor-batch-" + std::string(name) + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.insert(e.path().filename().string());
    return out;
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a job that must be refused as an invalid argument, naming `expected` in its message.
void expect_refused(const Campaign& campaign, const std::string& in, const std::string& out,
                    const std::string& expected) {
  try {
    run_batch_inference(campaign, in, out, BatchOptions{});
    ADD_FAILURE() << "accepted --input " << in << " --output " << out;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(BatchInference, RefusesAnOutputThatWouldOverwriteTheInputOrIsNotARegularFile) {
  auto campaign = make_campaign("user-personalization");
  TempDir dir("paths");
  const std::string in = dir / "in.jsonl", text = "{\"userId\":\"user-0001\"}\n";
  std::ofstream(in) << text;
  fs::create_directory(dir / "sub");
  fs::create_symlink(in, dir / "link.jsonl");
  fs::create_hard_link(in, dir / "hard.jsonl");

  // The same file under any name.
  expect_refused(*campaign, in, in, "is the input file");
  expect_refused(*campaign, in, dir / "./in.jsonl", "is the input file");
  expect_refused(*campaign, in, dir / "sub/../in.jsonl", "is the input file");
  expect_refused(*campaign, in, dir / "link.jsonl", "is the input file");
  expect_refused(*campaign, dir / "link.jsonl", in, "is the input file");
  expect_refused(*campaign, in, dir / "hard.jsonl", "is the input file");
  // A name the job derives for its temporary file, either way round (X.tmp was once overwritten).
  std::ofstream(dir / "out.jsonl.tmp") << text;
  expect_refused(*campaign, dir / "out.jsonl.tmp", dir / "out.jsonl", "temporary file");
  expect_refused(*campaign, in, dir / "in.jsonl.tmp", "temporary file");
  expect_refused(*campaign, in, dir / "in.jsonl.tmp.abc123", "temporary file");
  // Relative names are compared where they lead (an output that does not exist yet included).
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path);
  expect_refused(*campaign, "out.jsonl.tmp", "out.jsonl", "temporary file");
  expect_refused(*campaign, "in.jsonl", "./sub/../in.jsonl", "is the input file");
  fs::current_path(cwd);
  // Outputs that are not regular files are never replaced.
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  expect_refused(*campaign, in, dir / "fifo", "not a regular file");
  expect_refused(*campaign, in, dir / "sub", "not a regular file");
  expect_refused(*campaign, in, "", "empty");
  expect_refused(*campaign, "", dir / "out.jsonl", "empty");

  // Nothing was written: the input is intact, the special files are what they were, and no
  // output or temporary file appeared.
  EXPECT_EQ(read_text(in), text);
  EXPECT_EQ(read_text(dir / "out.jsonl.tmp"), text);
  EXPECT_TRUE(fs::is_symlink(dir / "link.jsonl"));
  EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
  EXPECT_TRUE(fs::is_directory(dir / "sub"));
  EXPECT_TRUE(fs::is_empty(dir / "sub"));
  EXPECT_EQ(dir.names(), (std::set<std::string>{"in.jsonl", "sub", "link.jsonl", "hard.jsonl",
                                                "out.jsonl.tmp", "fifo"}));

  // A different output next to the input is fine.
  EXPECT_EQ(run_batch_inference(*campaign, in, dir / "out.jsonl", BatchOptions{}).succeeded, 1u);
  EXPECT_EQ(read_text(in), text);
}

TEST(BatchInference, WritesThroughAUniqueTemporaryFileRemovedOnFailure) {
  auto campaign = make_campaign("user-personalization");
  TempDir dir("tmp");
  const std::string in = dir / "in.jsonl", out = dir / "out.jsonl";
  {
    std::ofstream f(in);
    for (int k = 0; k < 6; ++k) f << "{\"userId\":\"user-000" << k << "\"}\n";
  }
  // Someone else's file under the name earlier versions used for the temporary file survives.
  std::ofstream(out + ".tmp") << "not yours";
  BatchOptions options;
  options.num_results = 2;
  options.lines_per_block = 2;  // three blocks, three progress calls

  // While job A runs, job B writes the same output: each has its own temporary file, and the
  // output is whole, from whichever renamed last (A).
  std::set<std::string> seen;
  std::size_t calls = 0;
  BatchReport a = run_batch_inference(*campaign, in, out, options, [&](std::size_t) {
    for (const std::string& name : dir.names()) {
      if (name.rfind("out.jsonl.tmp.", 0) == 0) seen.insert(name);
    }
    if (++calls == 1) {
      BatchOptions one = options;
      one.num_results = 1;
      run_batch_inference(*campaign, in, out, one, [&](std::size_t) {
        for (const std::string& name : dir.names()) {
          if (name.rfind("out.jsonl.tmp.", 0) == 0) seen.insert(name);
        }
      });
    }
  });
  EXPECT_EQ(a.succeeded, 6u);
  EXPECT_EQ(seen.size(), 2u);  // A's and B's
  const auto rows = read_lines(out);
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.find("output")->find("recommendedItems")->items().size(), 2u);
  }
  EXPECT_EQ(read_text(out + ".tmp"), "not yours");
  EXPECT_EQ(dir.names(), (std::set<std::string>{"in.jsonl", "out.jsonl", "out.jsonl.tmp"}));

  // A job that fails part way leaves the old output as it was and no temporary file.
  const std::string before = read_text(out);
  EXPECT_THROW(run_batch_inference(*campaign, in, out, options,
                                   [](std::size_t) { throw Error(ErrorCode::Io, "disk gone"); }),
               Error);
  EXPECT_EQ(read_text(out), before);
  EXPECT_EQ(dir.names(), (std::set<std::string>{"in.jsonl", "out.jsonl", "out.jsonl.tmp"}));
}

}  // namespace
}  // namespace tailor
