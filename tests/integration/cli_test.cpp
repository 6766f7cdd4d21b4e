// SPDX-License-Identifier: MIT
// End to end: the quickstart, and the command line create -> import -> train -> recommend ->
// rank -> batch -> put-events -> info on the sample data, checking what each prints or writes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "io/json.hpp"

namespace {

namespace fs = std::filesystem;

struct Result {
  int status;
  std::string out;
};

// Runs a shell command, capturing stdout (stderr goes to the test log).
Result run(const std::string& command) {
  Result r{-1, ""};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

tailor::detail::Json json(const std::string& text) { return tailor::detail::parse_json(text, "command output"); }

TEST(IntegrationCli, QuickstartRunsTheWholeJourney) {
  Result r = run(std::string(TAILOR_QUICKSTART) + " " + TAILOR_SOURCE_DIR + "/data");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* step : {"1. Schemas", "2. A dataset group", "4. Train solutions", "normalized_discounted_cumulative_gain_at_10",
                           "5. A campaign", "EXCLUDE ItemID", "6. Similar items", "7. Personalized ranking",
                           "not-in-the-catalog", "8. Live events"}) {
    EXPECT_NE(r.out.find(step), std::string::npos) << "missing: " << step;
  }
}

TEST(IntegrationCli, CreateImportTrainRecommendBatch) {
  const std::string dir = (fs::temp_directory_path() / ("tailor-cli-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  const std::string cli = TAILOR_CLI;
  const std::string data = std::string(TAILOR_SOURCE_DIR) + "/data/";
  auto tailor = [&](const std::string& args) { return run(cli + " " + args + " 2>&1"); };

  ASSERT_EQ(tailor("create " + dir + " --interactions-schema " + data + "interactions_schema.json --users-schema " + data +
                   "users_schema.json --items-schema " + data + "items_schema.json").status, 0);
  Result imported = tailor("import " + dir + " --dataset interactions --csv " + data + "interactions.csv --json");
  ASSERT_EQ(imported.status, 0) << imported.out;
  EXPECT_EQ(json(imported.out).find("rowsImported")->as_int(), 29314);
  ASSERT_EQ(tailor("import " + dir + " --dataset items --csv " + data + "items.csv").status, 0);
  ASSERT_EQ(tailor("import " + dir + " --dataset users --csv " + data + "users.csv --mode incremental").status, 0);

  // A bad CSV: all-or-nothing fails with a report and a non-zero status.
  const std::string bad = dir + "-bad.csv";
  std::ofstream(bad) << "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nu,i,yesterday,read,1\n";
  Result rejected = tailor("import " + dir + " --dataset interactions --mode incremental --csv " + bad + " --json");
  EXPECT_NE(rejected.status, 0);
  EXPECT_EQ(json(rejected.out).find("rowsRejected")->as_int(), 1);
  {
    const tailor::detail::Json report = json(rejected.out);
    ASSERT_EQ(report.find("errors")->items().size(), 1u);
    const tailor::detail::Json& error = report.find("errors")->items()[0];
    EXPECT_EQ(error.find("line")->as_int(), 2);
    EXPECT_EQ(error.find("column")->as_string(), "TIMESTAMP");
    EXPECT_FALSE(error.find("reason")->as_string().empty());
  }

  Result trained = tailor("train " + dir + " --recipe user-personalization --params '{\"factors\": 16, \"iterations\": 5}' --json");
  ASSERT_EQ(trained.status, 0) << trained.out;
  const tailor::detail::Json trained_json = json(trained.out);
  const tailor::detail::Json* metrics = trained_json.find("metrics");
  ASSERT_NE(metrics, nullptr);
  EXPECT_GT(metrics->find("normalized_discounted_cumulative_gain_at_10")->as_real(), 0.0);
  EXPECT_NE(metrics->find("precision_at_10"), nullptr);
  EXPECT_NE(metrics->find("mean_reciprocal_rank_at_25"), nullptr);
  EXPECT_NE(metrics->find("coverage"), nullptr);
  ASSERT_EQ(tailor("train " + dir + " --recipe sims --no-metrics").status, 0);

  Result rec = tailor("recommend " + dir + " --user user-0001 -n 5 --solution user-personalization --json");
  ASSERT_EQ(rec.status, 0) << rec.out;
  const auto list = json(rec.out);
  ASSERT_EQ(list.find("itemList")->items().size(), 5u);
  EXPECT_TRUE(list.find("itemList")->items()[0].find("score")->is_number());
  EXPECT_FALSE(list.find("recommendationId")->as_string().empty());
  Result filtered = tailor("recommend " + dir + " --user user-0001 -n 5 --solution user-personalization --filter "
                           "'INCLUDE ItemID WHERE Items.COMMUNITY IN ($C)' --param 'C=Finance Hub' --json");
  ASSERT_EQ(filtered.status, 0) << filtered.out;
  Result similar = tailor("recommend " + dir + " --item item-0000 -n 3 --solution sims --json");
  ASSERT_EQ(similar.status, 0) << similar.out;
  EXPECT_EQ(json(similar.out).find("itemList")->items().size(), 3u);
  Result ranked = tailor("rank " + dir + " --user user-0001 --items item-0001,ghost,item-0002 --solution user-personalization --json");
  ASSERT_EQ(ranked.status, 0) << ranked.out;
  const auto ranking = json(ranked.out).find("personalizedRanking")->items();
  ASSERT_EQ(ranking.size(), 3u);
  EXPECT_EQ(ranking[2].find("itemId")->as_string(), "ghost");

  // Batch: one output line per input line, in order, errors per line.
  const std::string in = dir + "-in.jsonl", out = dir + "-out.jsonl";
  std::ofstream(in) << "{\"userId\":\"user-0001\"}\n{\"userId\":\"user-0002\",\"numResults\":2}\nnot json\n"
                       "{\"userId\":\"user-0003\",\"itemList\":[\"item-0001\",\"item-0002\"]}\n";
  Result batch = tailor("batch " + dir + " --input " + in + " --output " + out + " --solution user-personalization -n 4 --json");
  ASSERT_EQ(batch.status, 0) << batch.out;
  EXPECT_EQ(json(batch.out).find("failed")->as_int(), 1);
  std::ifstream lines(out);
  std::string line;
  std::vector<tailor::detail::Json> rows;
  while (std::getline(lines, line)) rows.push_back(json(line));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].find("input")->find("userId")->as_string(), "user-0001");
  EXPECT_EQ(rows[0].find("output")->find("recommendedItems")->items().size(), 4u);
  EXPECT_EQ(rows[0].find("output")->find("scores")->items().size(), 4u);
  EXPECT_TRUE(rows[0].find("error")->is_null());
  EXPECT_EQ(rows[1].find("output")->find("recommendedItems")->items().size(), 2u);
  EXPECT_TRUE(rows[2].find("output")->is_null());
  EXPECT_TRUE(rows[2].find("error")->is_string());
  EXPECT_EQ(rows[3].find("output")->find("recommendedItems")->items().size(), 2u);
  EXPECT_FALSE(fs::exists(out + ".tmp"));

  // put-events goes through the update log; info sees it.
  std::ofstream(in) << "{\"userId\":\"user-0001\",\"sessionId\":\"s\",\"itemId\":\"brand-new\",\"eventType\":\"read\",\"sentAt\":1800000000}\n"
                       "{\"itemId\":\"x\",\"eventType\":\"read\",\"sentAt\":1}\n";
  Result put = tailor("put-events " + dir + " --input " + in + " --json");
  ASSERT_EQ(put.status, 0) << put.out;
  EXPECT_EQ(json(put.out).find("accepted")->as_int(), 1);
  EXPECT_EQ(json(put.out).find("rejected")->as_int(), 1);
  {
    const tailor::detail::Json report = json(put.out);
    ASSERT_EQ(report.find("errors")->items().size(), 1u);
    const tailor::detail::Json& error = report.find("errors")->items()[0];
    EXPECT_EQ(error.find("line")->as_int(), 2);
    EXPECT_NE(error.find("field"), nullptr);
    EXPECT_FALSE(error.find("reason")->as_string().empty());
  }
  Result info = tailor("info " + dir + " --json");
  ASSERT_EQ(info.status, 0) << info.out;
  const tailor::detail::Json info_json = json(info.out);
  const tailor::detail::Json* datasets = info_json.find("datasets");
  EXPECT_EQ(datasets->find("interactions")->find("rows")->as_int(), 29315);
  EXPECT_EQ(datasets->find("items")->find("rows")->as_int(), 1200);
  EXPECT_EQ(json(info.out).find("solutions")->items().size(), 2u);

  // Errors: a clear message on stderr and a non-zero status.
  EXPECT_NE(tailor("recommend " + dir + " --user user-0001 -n 501").status, 0);
  EXPECT_NE(tailor("train " + dir + " --recipe no-such-recipe").status, 0);
  EXPECT_NE(tailor("info /nonexistent/dir").status, 0);
  EXPECT_EQ(tailor("--help").status, 0);
  EXPECT_EQ(tailor("batch --help").status, 0);
  fs::remove_all(dir);
  fs::remove(bad);
  fs::remove(in);
  fs::remove(out);
}

// A fresh directory for one test, removed at the end.
struct TempDir {
  std::string path;
  explicit TempDir(const char* name)
      : path((fs::temp_directory_path() /
              ("tailor-cli-" + std::string(name) + "-" + std::to_string(::getpid())))
                 .string()) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::set<std::string> names(const std::string& sub = "") const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(path + sub)) {
      out.insert(e.path().filename().string());
    }
    return out;
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the CLI in `cwd` with stdout discarded: the status and what it printed on stderr.
Result tailor_err(const std::string& cwd, const std::string& args) {
  return run("cd '" + cwd + "' && " + TAILOR_CLI + " " + args + " 2>&1 >/dev/null");
}

// Expects status 2 and `message` on stderr.
void expect_invalid(const std::string& cwd, const std::string& args, const std::string& message) {
  const Result r = tailor_err(cwd, args);
  EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
  EXPECT_NE(r.out.find(message), std::string::npos) << args << "\n" << r.out;
}

const std::string kData = std::string(TAILOR_SOURCE_DIR) + "/data/";
const std::string kSchema = " --interactions-schema " + kData + "interactions_schema.json";

TEST(IntegrationCli, CreateRefusesAnEmptyNameAFileAndANonEmptyDirectory) {
  TempDir dir("create");
  std::ofstream(dir.path + "/keep.txt") << "mine";
  fs::create_directory(dir.path + "/full");
  std::ofstream(dir.path + "/full/notes.txt") << "mine";

  // An empty name once wrote the group into "/".
  expect_invalid(dir.path, "create ''" + kSchema, "the path is empty");
  expect_invalid(dir.path, "create full" + kSchema, "full is not empty");
  expect_invalid(dir.path, "create keep.txt" + kSchema, "keep.txt exists and is not a directory");
  // Nothing was written anywhere.
  EXPECT_EQ(dir.names(), (std::set<std::string>{"keep.txt", "full"}));
  EXPECT_EQ(dir.names("/full"), (std::set<std::string>{"notes.txt"}));
  EXPECT_EQ(read_text(dir.path + "/keep.txt"), "mine");

  // A new or empty directory is fine; a second create on it is refused.
  fs::create_directory(dir.path + "/empty");
  EXPECT_EQ(tailor_err(dir.path, "create empty" + kSchema).status, 0);
  EXPECT_EQ(tailor_err(dir.path, "create new/group" + kSchema).status, 0);
  expect_invalid(dir.path, "create new/group" + kSchema, "is not empty");
}

TEST(IntegrationCli, FullImportThatAcceptsNoRowLeavesTheDatasetAsItWas) {
  TempDir dir("import");
  const std::string head = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n";
  std::ofstream(dir.path + "/good.csv")
      << head << "u1,i1,1,read,1\nu2,i2,2,read,1\nu3,i3,3,read,1\n";
  std::ofstream(dir.path + "/bad.csv") << head << "u4,i4,yesterday,read,1\nu5,i5,never,read,1\n";
  std::ofstream(dir.path + "/empty.csv") << head;
  auto tailor = [&](const std::string& args) {
    return run("cd '" + dir.path + "' && " + TAILOR_CLI + " " + args);
  };
  auto rows = [&]() {
    return json(tailor("info g --json").out)
        .find("datasets")
        ->find("interactions")
        ->find("rows")
        ->as_int();
  };
  ASSERT_EQ(tailor("create g" + kSchema).status, 0);
  ASSERT_EQ(tailor("import g --dataset interactions --csv good.csv").status, 0);
  ASSERT_EQ(rows(), 3);

  // Every row bad under --skip-invalid: refused, non-zero, the reason first in the report.
  Result bad = tailor("import g --dataset interactions --csv bad.csv --skip-invalid --json");
  EXPECT_EQ(bad.status, 1) << bad.out;
  const auto report = json(bad.out);
  EXPECT_FALSE(report.find("applied")->as_bool());
  EXPECT_EQ(report.find("rowsRejected")->as_int(), 2);
  ASSERT_EQ(report.find("errors")->items().size(), 3u);
  EXPECT_NE(
      report.find("errors")->items()[0].find("reason")->as_string().find("no row was accepted"),
      std::string::npos);
  EXPECT_EQ(rows(), 3);

  // A header-only file empties the dataset only with --allow-empty.
  Result empty = tailor("import g --dataset interactions --csv empty.csv");
  EXPECT_EQ(empty.status, 1) << empty.out;
  EXPECT_NE(empty.out.find("--allow-empty"), std::string::npos) << empty.out;
  EXPECT_EQ(rows(), 3);
  EXPECT_EQ(
      tailor("import g --dataset interactions --csv bad.csv --skip-invalid --allow-empty").status,
      1);
  EXPECT_EQ(rows(), 3);
  Result allowed = tailor("import g --dataset interactions --csv empty.csv --allow-empty");
  EXPECT_EQ(allowed.status, 0) << allowed.out;
  EXPECT_EQ(rows(), 0);
}

// A store with a trained popularity-count solution, in dir/g.
void make_trained_store(const TempDir& dir) {
  auto tailor = [&](const std::string& args) {
    return run("cd '" + dir.path + "' && " + TAILOR_CLI + " " + args);
  };
  ASSERT_EQ(tailor("create g" + kSchema).status, 0);
  ASSERT_EQ(tailor("import g --dataset interactions --csv " + kData + "interactions.csv").status,
            0);
  ASSERT_EQ(tailor("train g --recipe popularity-count --no-metrics").status, 0);
}

TEST(IntegrationCli, BadOptionValuesExitTwoNamingTheOption) {
  TempDir dir("options");
  make_trained_store(dir);
  for (const char* command :
       {"recommend g --user user-0001", "batch g --input in.jsonl --output out.jsonl"}) {
    const std::string c = command;
    for (const char* value : {"abc", "-3", "0", "501", "2.5", "''"}) {
      expect_invalid(dir.path, c + " -n " + value, "-n: expected a whole number from 1 to 500");
    }
  }
  for (const char* value : {"-1", "abc", "99999999999"}) {
    expect_invalid(dir.path, std::string("info g --threads ") + value,
                   "--threads: expected a whole number");
  }
  for (const char* value : {"x", "-1"}) {
    expect_invalid(dir.path, std::string("train g --recipe popularity-count --seed ") + value,
                   "--seed: expected a whole number");
  }
  for (const char* items : {"''", "a,,b", "a,", ",a", ","}) {
    expect_invalid(dir.path, std::string("rank g --user user-0001 --items ") + items,
                   "--items: empty item id");
  }
  // CLI11's own errors (unknown option, missing argument or command) exit 2 too.
  expect_invalid(dir.path, "info g --nope", "--nope");
  expect_invalid(dir.path, "recommend g -n", "-n");
  expect_invalid(dir.path, "", "subcommand");
  EXPECT_FALSE(fs::exists(dir.path + "/out.jsonl"));

  // 0 threads means all cores, and a count above the cores is capped, not refused.
  const std::string rec = std::string("cd '") + dir.path + "' && " + TAILOR_CLI +
                          " recommend g --user user-0001 -n 500 --json --threads ";
  EXPECT_EQ(run(rec + "0").status, 0);
  EXPECT_EQ(run(rec + "100000").status, 0);
  EXPECT_EQ(run(std::string("cd '") + dir.path + "' && " + TAILOR_CLI +
                " rank g --user user-0001 --items item-0001,item-0002")
                .status,
            0);
}

TEST(IntegrationCli, BatchRefusesPathsThatWouldDestroyItsInputOrReplaceASpecialFile) {
  TempDir dir("batch");
  make_trained_store(dir);
  const std::string text = "{\"userId\":\"user-0001\"}\n{\"userId\":\"user-0002\"}\n";
  std::ofstream(dir.path + "/in.jsonl") << text;
  std::ofstream(dir.path + "/out.jsonl.tmp") << text;
  fs::create_symlink(dir.path + "/in.jsonl", dir.path + "/link.jsonl");
  fs::create_directory(dir.path + "/sub");
  ASSERT_EQ(::mkfifo((dir.path + "/fifo").c_str(), 0600), 0);
  const std::set<std::string> before = dir.names();

  const std::string batch = "batch g -n 3 ";
  expect_invalid(dir.path, batch + "--input in.jsonl --output in.jsonl", "is the input file");
  expect_invalid(dir.path, batch + "--input in.jsonl --output ./in.jsonl", "is the input file");
  expect_invalid(dir.path, batch + "--input in.jsonl --output '" + dir.path + "/in.jsonl'",
                 "is the input file");
  expect_invalid(dir.path, batch + "--input in.jsonl --output sub/../in.jsonl",
                 "is the input file");
  expect_invalid(dir.path, batch + "--input in.jsonl --output link.jsonl", "is the input file");
  // The reported case: the job's temporary file was once <output>.tmp, the input itself.
  expect_invalid(dir.path, batch + "--input out.jsonl.tmp --output out.jsonl", "temporary file");
  expect_invalid(dir.path, batch + "--input in.jsonl --output in.jsonl.tmp", "temporary file");
  // Never replace a device, a FIFO or a directory with a regular file.
  expect_invalid(dir.path, batch + "--input in.jsonl --output fifo", "not a regular file");
  expect_invalid(dir.path, batch + "--input in.jsonl --output sub", "not a regular file");

  // Nothing was written.
  EXPECT_EQ(dir.names(), before);
  EXPECT_EQ(read_text(dir.path + "/in.jsonl"), text);
  EXPECT_EQ(read_text(dir.path + "/out.jsonl.tmp"), text);
  EXPECT_TRUE(fs::is_symlink(dir.path + "/link.jsonl"));
  EXPECT_TRUE(fs::is_fifo(dir.path + "/fifo"));
  EXPECT_TRUE(fs::is_empty(dir.path + "/sub"));

  // A distinct output works and leaves no temporary file behind.
  const Result ok = tailor_err(dir.path, batch + "--input in.jsonl --output out.jsonl");
  ASSERT_EQ(ok.status, 0) << ok.out;
  std::set<std::string> after = before;
  after.insert("out.jsonl");
  EXPECT_EQ(dir.names(), after);
  EXPECT_EQ(read_text(dir.path + "/in.jsonl"), text);
}

}  // namespace
