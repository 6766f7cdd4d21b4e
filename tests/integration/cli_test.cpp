// SPDX-License-Identifier: MIT
// End to end: the quickstart, and the command line create -> import -> train -> recommend ->
// rank -> batch -> put-events -> info on the sample data, checking what each prints or writes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/json.hpp"
#include "tailor/tailor.hpp"

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

// put-events / put-users read each line strictly: bad lines are rejected with the file's line
// number and the real reason, and change nothing.
TEST(IntegrationCli, PutCommandsReportFileLinesAndStoreOnlyGoodRecords) {
  const std::string dir =
      (fs::temp_directory_path() / ("tailor-cli-put-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  const std::string data = std::string(TAILOR_SOURCE_DIR) + "/data/";
  auto tailor = [&](const std::string& args) {
    return run(std::string(TAILOR_CLI) + " " + args + " 2>&1");
  };
  ASSERT_EQ(tailor("create " + dir + " --interactions-schema " + data +
                   "interactions_schema.json --users-schema " + data + "users_schema.json")
                .status,
            0);
  ASSERT_EQ(tailor("import " + dir + " --dataset users --csv " + data + "users.csv").status, 0);

  const std::string events = dir + "-events.jsonl";
  const std::string good = R"("sessionId":"s","itemId":"i1","eventType":"read")";
  const std::vector<std::string> lines = {
      "{\"userId\":\"good-1\"," + good + ",\"sentAt\":1800000000}",
      "{\"userId\":\"no-time\"," + good + "}",
      "",
      "{\"userId\":\"far\"," + good + ",\"sentAt\":1e19}",
      "{\"userId\":\"abc\"," + good + ",\"sentAt\":1,\"eventValue\":\"abc\"}",
      "{\"userId\":42," + good + ",\"sentAt\":1}",
      "{\"userId\":",
      "{\"userId\":\"good-2\"," + good + ",\"sentAt\":1800000001,\"properties\":\"{}\"}",
      // Readable, but put_events refuses it: the report must still name line 9.
      R"({"userId":"no-session","itemId":"i1","eventType":"read","sentAt":1})",
      "{\"userId\":\"twice\",\"userId\":\"again\"," + good + ",\"sentAt\":1}"};
  {
    std::ofstream out(events);
    for (const std::string& line : lines) out << line << "\n";
  }
  Result put = tailor("put-events " + dir + " --input " + events + " --json");
  ASSERT_EQ(put.status, 0) << put.out;
  const tailor::detail::Json report = json(put.out);
  EXPECT_EQ(report.find("accepted")->as_int(), 2);
  EXPECT_EQ(report.find("rejected")->as_int(), 7);
  const std::vector<std::pair<int, std::string>> expected = {
      {2, "sentAt"}, {4, "sentAt"},    {5, "eventValue"}, {6, "userId"},
      {7, ""},       {9, "sessionId"}, {10, ""}};
  const auto& errors = report.find("errors")->items();
  ASSERT_EQ(errors.size(), expected.size()) << put.out;
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(errors[k].find("line")->as_int(), expected[k].first) << put.out;
    EXPECT_EQ(errors[k].find("field")->as_string(), expected[k].second) << put.out;
  }
  EXPECT_NE(errors[1].find("reason")->as_string().find("out of range"), std::string::npos);
  EXPECT_NE(errors[2].find("reason")->as_string().find("must be a JSON number"), std::string::npos);
  EXPECT_NE(errors[4].find("reason")->as_string().find("malformed JSON"), std::string::npos);
  EXPECT_NE(errors[6].find("reason")->as_string().find("duplicate key"), std::string::npos);

  Result text = tailor("put-events " + dir + " --input " + events);
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("9 lines: 2 accepted, 7 rejected"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("line 9, sessionId:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("line 7: malformed JSON"), std::string::npos) << text.out;

  // Users: unreadable properties are rejected and the stored metadata stays as it was.
  const std::string users = dir + "-users.jsonl";
  {
    std::ofstream out(users);
    out << R"({"userId":"user-0001","properties":"{broken"})" << "\n"
        << R"({"userId":"user-0001","properties":{"department":"Nowhere","shoeSize":44}})" << "\n"
        << R"({"userId":"user-0001","properties":7})" << "\n"
        << R"({"userId":"user-0002","properties":{"department":"Data","country":"FR","role":"x"}})"
        << "\n";
  }
  Result put_users = tailor("put-users " + dir + " --input " + users + " --json");
  ASSERT_EQ(put_users.status, 0) << put_users.out;
  EXPECT_EQ(json(put_users.out).find("accepted")->as_int(), 1) << put_users.out;
  EXPECT_EQ(json(put_users.out).find("rejected")->as_int(), 3) << put_users.out;

  Result info = tailor("info " + dir + " --json");
  ASSERT_EQ(info.status, 0) << info.out;
  // Four accepted events (the file was sent twice): the bad lines left nothing behind.
  EXPECT_EQ(json(info.out).find("datasets")->find("interactions")->find("rows")->as_int(), 4);
  {
    auto store = tailor::Store::open(dir);
    store->group()->read([](const tailor::DatasetGroup& g) {
      for (const char* id : {"no-time", "far", "abc", "no-session", "twice", "again"}) {
        EXPECT_EQ(g.user_ids().find(id), tailor::kNoIndex) << id;
      }
      auto value = [&](const char* user, const char* column) {
        const tailor::Column& c = *g.users()->column(column);
        const std::uint32_t row = g.users()->row_of(g.user_ids().find(user));
        return std::string(c.dictionary().name(c.codes_at(row)[0]));
      };
      EXPECT_EQ(value("user-0001", "DEPARTMENT"), "Engineering");
      EXPECT_EQ(value("user-0001", "COUNTRY"), "BR");
      EXPECT_EQ(value("user-0002", "DEPARTMENT"), "Data");  // was Finance: the good line landed
    });
  }
  fs::remove_all(dir);
  fs::remove(events);
  fs::remove(users);
}

}  // namespace
