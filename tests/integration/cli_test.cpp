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
#include <vector>

#include "common/run_command.hpp"
#include "detail/cpu.hpp"
#include "io/json.hpp"
#include "tailor/tailor.hpp"

namespace {

namespace fs = std::filesystem;

using Result = tailor::test::CommandResult;
Result run(const std::string& command) { return tailor::test::run_command(command); }

tailor::detail::Json json(const std::string& text) {
  return tailor::detail::parse_json(text, "command output");
}

TEST(IntegrationCli, QuickstartRunsTheWholeJourney) {
  Result r = run(std::string(TAILOR_QUICKSTART) + " " + TAILOR_SOURCE_DIR + "/data");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* step :
       {"1. Schemas", "2. A dataset group", "4. Train solutions",
        "normalized_discounted_cumulative_gain_at_10", "5. A campaign", "EXCLUDE ItemID",
        "6. Similar items", "7. Personalized ranking", "not-in-the-catalog", "8. Live events"}) {
    EXPECT_NE(r.out.find(step), std::string::npos) << "missing: " << step;
  }
}

TEST(IntegrationCli, CreateImportTrainRecommendBatch) {
  const std::string dir =
      (fs::temp_directory_path() / ("tailor-cli-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  const std::string cli = TAILOR_CLI;
  const std::string data = std::string(TAILOR_SOURCE_DIR) + "/data/";
  auto tailor = [&](const std::string& args) { return run(cli + " " + args + " 2>&1"); };

  ASSERT_EQ(tailor("create " + dir + " --interactions-schema " + data +
                   "interactions_schema.json --users-schema " + data +
                   "users_schema.json --items-schema " + data + "items_schema.json")
                .status,
            0);
  Result imported =
      tailor("import " + dir + " --dataset interactions --csv " + data + "interactions.csv --json");
  ASSERT_EQ(imported.status, 0) << imported.out;
  EXPECT_EQ(json(imported.out).find("rowsImported")->as_int(), 29314);
  ASSERT_EQ(tailor("import " + dir + " --dataset items --csv " + data + "items.csv").status, 0);
  ASSERT_EQ(
      tailor("import " + dir + " --dataset users --csv " + data + "users.csv --mode incremental")
          .status,
      0);

  // A bad CSV: all-or-nothing fails with a report and a non-zero status.
  const std::string bad = dir + "-bad.csv";
  std::ofstream(bad) << "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nu,i,yesterday,read,1\n";
  Result rejected = tailor("import " + dir + " --dataset interactions --mode incremental --csv " +
                           bad + " --json");
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

  Result trained = tailor(
      "train " + dir +
      " --recipe user-personalization --params '{\"factors\": 16, \"iterations\": 5}' --json");
  ASSERT_EQ(trained.status, 0) << trained.out;
  const tailor::detail::Json trained_json = json(trained.out);
  const tailor::detail::Json* metrics = trained_json.find("metrics");
  ASSERT_NE(metrics, nullptr);
  EXPECT_GT(metrics->find("normalized_discounted_cumulative_gain_at_10")->as_real(), 0.0);
  EXPECT_NE(metrics->find("precision_at_10"), nullptr);
  EXPECT_NE(metrics->find("mean_reciprocal_rank_at_25"), nullptr);
  EXPECT_NE(metrics->find("coverage"), nullptr);
  ASSERT_EQ(tailor("train " + dir + " --recipe sims --no-metrics").status, 0);

  Result rec =
      tailor("recommend " + dir + " --user user-0001 -n 5 --solution user-personalization --json");
  ASSERT_EQ(rec.status, 0) << rec.out;
  const auto list = json(rec.out);
  ASSERT_EQ(list.find("itemList")->items().size(), 5u);
  EXPECT_TRUE(list.find("itemList")->items()[0].find("score")->is_number());
  EXPECT_FALSE(list.find("recommendationId")->as_string().empty());
  Result filtered =
      tailor("recommend " + dir +
             " --user user-0001 -n 5 --solution user-personalization --filter "
             "'INCLUDE ItemID WHERE Items.COMMUNITY IN ($C)' --param 'C=Finance Hub' --json");
  ASSERT_EQ(filtered.status, 0) << filtered.out;
  Result similar = tailor("recommend " + dir + " --item item-0000 -n 3 --solution sims --json");
  ASSERT_EQ(similar.status, 0) << similar.out;
  EXPECT_EQ(json(similar.out).find("itemList")->items().size(), 3u);
  Result ranked = tailor(
      "rank " + dir +
      " --user user-0001 --items item-0001,ghost,item-0002 --solution user-personalization --json");
  ASSERT_EQ(ranked.status, 0) << ranked.out;
  const auto ranking = json(ranked.out).find("personalizedRanking")->items();
  ASSERT_EQ(ranking.size(), 3u);
  EXPECT_EQ(ranking[2].find("itemId")->as_string(), "ghost");

  // Batch: one output line per input line, in order, errors per line.
  const std::string in = dir + "-in.jsonl", out = dir + "-out.jsonl";
  std::ofstream(in)
      << "{\"userId\":\"user-0001\"}\n{\"userId\":\"user-0002\",\"numResults\":2}\nnot json\n"
         "{\"userId\":\"user-0003\",\"itemList\":[\"item-0001\",\"item-0002\"]}\n";
  Result batch = tailor("batch " + dir + " --input " + in + " --output " + out +
                        " --solution user-personalization -n 4 --json");
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
  std::ofstream(in) << "{\"userId\":\"user-0001\",\"sessionId\":\"s\",\"itemId\":\"brand-new\","
                       "\"eventType\":\"read\",\"sentAt\":1800000000}\n"
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
  EXPECT_TRUE(tailor::detail::parse_cpu_target(info_json.find("kernel_target")->as_string()))
      << info.out;

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

TEST(IntegrationCli, FreshContentMetadataColumnsExplorationAndColdItems) {
  const std::string dir =
      (fs::temp_directory_path() / ("tailor-cli-fresh-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  const std::string cli = TAILOR_CLI;
  const std::string data = std::string(TAILOR_SOURCE_DIR) + "/data/";
  auto tailor = [&](const std::string& args) { return run(cli + " " + args + " 2>&1"); };
  ASSERT_EQ(tailor("create " + dir + " --interactions-schema " + data +
                   "interactions_schema.json --items-schema " + data + "items_schema.json")
                .status,
            0);
  ASSERT_EQ(
      tailor("import " + dir + " --dataset interactions --csv " + data + "interactions.csv").status,
      0);
  ASSERT_EQ(tailor("import " + dir + " --dataset items --csv " + data + "items.csv").status, 0);
  ASSERT_EQ(tailor("train " + dir +
                   " --recipe user-personalization --params '{\"factors\": 16}' --no-metrics")
                .status,
            0);
  // Five new posts, put after training: exploration at weight 1 fills every slot with them.
  const std::string in = dir + "-items.jsonl", out = dir + "-out.jsonl";
  {
    std::ofstream items(in);
    for (int k = 0; k < 5; ++k) {
      items << "{\"itemId\":\"new-" << k
            << "\",\"properties\":{\"contentType\":\"blog_post\",\"community\":"
               "\"Engineering Hub\",\"title\":\"cpp security\",\"creationTimestamp\":"
               "1790000000}}\n";
    }
  }
  ASSERT_EQ(tailor("put-items " + dir + " --input " + in).status, 0);
  Result rec = tailor("recommend " + dir +
                      " --user user-0001 -n 4 --exploration-weight 1 --metadata COMMUNITY,TITLE "
                      "--json");
  ASSERT_EQ(rec.status, 0) << rec.out;
  const tailor::detail::Json answer = json(rec.out);
  ASSERT_EQ(answer.find("itemList")->items().size(), 4u);
  for (const tailor::detail::Json& item : answer.find("itemList")->items()) {
    EXPECT_EQ(item.find("itemId")->as_string().rfind("new-", 0), 0u) << rec.out;
    ASSERT_NE(item.find("exploration"), nullptr) << rec.out;
    EXPECT_TRUE(item.find("exploration")->as_bool());
    ASSERT_NE(item.find("metadata"), nullptr) << rec.out;
    EXPECT_EQ(item.find("metadata")->find("COMMUNITY")->as_string(), "Engineering Hub");
    EXPECT_EQ(item.find("metadata")->find("TITLE")->as_string(), "cpp security");
  }
  Result plain =
      tailor("recommend " + dir + " --user user-0001 -n 4 --exploration-weight 0 --json");
  ASSERT_EQ(plain.status, 0) << plain.out;
  for (const tailor::detail::Json& item : json(plain.out).find("itemList")->items()) {
    EXPECT_EQ(item.find("exploration"), nullptr);
    EXPECT_EQ(item.find("metadata"), nullptr);
  }
  Result ranked =
      tailor("rank " + dir + " --user user-0001 --items new-0,item-0000 --metadata TAGS --json");
  ASSERT_EQ(ranked.status, 0) << ranked.out;
  for (const tailor::detail::Json& item : json(ranked.out).find("personalizedRanking")->items()) {
    ASSERT_NE(item.find("score"), nullptr) << ranked.out;  // new-0 scored from metadata
  }
  std::ofstream(in) << "{\"userId\":\"user-0001\"}\n";
  Result batch =
      tailor("batch " + dir + " --input " + in + " --output " + out + " -n 3 --metadata COMMUNITY");
  ASSERT_EQ(batch.status, 0) << batch.out;
  {
    std::ifstream lines(out);
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    const tailor::detail::Json row = json(line);
    ASSERT_NE(row.find("output")->find("metadata"), nullptr) << line;
    const auto& metadata = row.find("output")->find("metadata")->items();
    ASSERT_EQ(metadata.size(), 3u) << line;
    EXPECT_NE(metadata[0].find("COMMUNITY"), nullptr);
  }
  Result cold = tailor("evaluate " + dir + " --cold-items --genre-field COMMUNITY --json");
  ASSERT_EQ(cold.status, 0) << cold.out;
  const tailor::detail::Json figures = json(cold.out);
  EXPECT_GT(figures.find("coldNdcgAt10")->as_real(), figures.find("randomNdcgAt10")->as_real());
  EXPECT_EQ(figures.find("catalogue")->items().size(), 3u);
  // Bad values: status 2 and the reason.
  Result bad = tailor("recommend " + dir + " --user user-0001 --exploration-weight 2");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("exploration_weight"), std::string::npos) << bad.out;
  EXPECT_EQ(tailor("recommend " + dir + " --user user-0001 --exploration-weight x").status, 2);
  Result column = tailor("recommend " + dir + " --user user-0001 --metadata NOPE");
  EXPECT_EQ(column.status, 2);
  EXPECT_NE(column.out.find("NOPE"), std::string::npos) << column.out;
  // batch refuses a bad column before the job (it failed every line and returned 0).
  fs::remove(out);
  Result batch_column =
      tailor("batch " + dir + " --input " + in + " --output " + out + " --metadata NOPE");
  EXPECT_EQ(batch_column.status, 2) << batch_column.out;
  EXPECT_NE(batch_column.out.find("NOPE"), std::string::npos) << batch_column.out;
  EXPECT_FALSE(fs::exists(out));
  fs::remove_all(dir);
  fs::remove(in);
  fs::remove(out);
}

// itemId:score pairs of a recommend --json answer (the recommendation id differs per call).
std::string ranked_items(const std::string& out) {
  const tailor::detail::Json answer = json(out);
  const tailor::detail::Json* list = answer.find("itemList");
  if (list == nullptr) return "(no itemList in: " + out + ")";
  std::string pairs;
  for (const auto& item : list->items()) {
    const tailor::detail::Json* score = item.find("score");
    pairs += item.find("itemId")->as_string() + ":" +
             (score ? std::to_string(score->as_real()) : "-") + " ";
  }
  return pairs;
}

TEST(IntegrationCli, SolutionVersionsAreListedActivatedAndChosenByName) {
  const std::string dir =
      (fs::temp_directory_path() / ("tailor-cli-versions-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  const std::string data = std::string(TAILOR_SOURCE_DIR) + "/data/";
  auto tailor = [&](const std::string& args) {
    return run(std::string(TAILOR_CLI) + " " + args + " 2>&1");
  };
  ASSERT_EQ(tailor("create " + dir + " --interactions-schema " + data + "interactions_schema.json")
                .status,
            0);
  ASSERT_EQ(
      tailor("import " + dir + " --dataset interactions --csv " + data + "interactions.csv").status,
      0);
  EXPECT_EQ(tailor("recommend " + dir + " --user user-0001").status, 3);  // no solution yet

  // Two versions of one solution, from different seeds (so different models).
  const std::string train = "train " + dir +
                            " --recipe user-personalization --solution up --no-metrics --json "
                            "--params '{\"factors\": 8, \"iterations\": 3}' --seed ";
  Result first = tailor(train + "1");
  ASSERT_EQ(first.status, 0) << first.out;
  EXPECT_EQ(json(first.out).find("version")->as_string(), "000001");
  const std::string recommend = "recommend " + dir + " --user user-0001 -n 5 --json";
  Result rec1 = tailor(recommend);  // the only solution: no --solution needed
  ASSERT_EQ(rec1.status, 0) << rec1.out;
  Result second = tailor(train + "2");
  ASSERT_EQ(second.status, 0) << second.out;
  EXPECT_EQ(json(second.out).find("version")->as_string(), "000002");
  Result rec2 = tailor(recommend);
  ASSERT_EQ(rec2.status, 0) << rec2.out;
  ASSERT_NE(ranked_items(rec2.out), ranked_items(rec1.out)) << "the two versions should differ";

  Result info = tailor("info " + dir + " --json");
  ASSERT_EQ(info.status, 0) << info.out;
  {
    const tailor::detail::Json report = json(info.out);
    ASSERT_EQ(report.find("solutions")->items().size(), 1u);
    const tailor::detail::Json& up = report.find("solutions")->items()[0];
    EXPECT_EQ(up.find("name")->as_string(), "up");
    EXPECT_EQ(up.find("recipe")->as_string(), "user-personalization");
    EXPECT_EQ(up.find("active")->as_string(), "000002");
    const auto& versions = up.find("versions")->items();
    ASSERT_EQ(versions.size(), 2u);
    EXPECT_EQ(versions[0].find("id")->as_string(), "000001");
    EXPECT_EQ(versions[1].find("id")->as_string(), "000002");
    EXPECT_GT(versions[0].find("createdAt")->as_int(), 1700000000);
    EXPECT_EQ(versions[0].find("trainingMode")->as_string(), "FULL");
    EXPECT_TRUE(versions[0].find("metrics")->is_null());
  }
  Result text = tailor("info " + dir);
  EXPECT_NE(text.out.find("000001"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("*  000002"), std::string::npos) << text.out;

  // Roll back: recommend serves the first version again; then forward.
  Result rolled = tailor("activate " + dir + " --solution up --version 000001 --json");
  ASSERT_EQ(rolled.status, 0) << rolled.out;
  EXPECT_EQ(json(rolled.out).find("active")->as_string(), "000001");
  Result back = tailor(recommend);
  ASSERT_EQ(back.status, 0) << back.out;
  EXPECT_EQ(ranked_items(back.out), ranked_items(rec1.out));
  Result evaluated = tailor("evaluate " + dir + " --json");
  ASSERT_EQ(evaluated.status, 0) << evaluated.out;
  EXPECT_EQ(json(evaluated.out).find("version")->as_string(), "000001");
  ASSERT_EQ(tailor("activate " + dir + " --solution up --version 000002").status, 0);
  EXPECT_EQ(ranked_items(tailor(recommend).out), ranked_items(rec2.out));
  Result bad = tailor("activate " + dir + " --solution up --version 000009");
  EXPECT_EQ(bad.status, 3);
  EXPECT_NE(bad.out.find("000009"), std::string::npos) << bad.out;
  EXPECT_EQ(tailor("activate " + dir + " --solution nope --version 000001").status, 3);
  EXPECT_NE(tailor("activate " + dir + " --solution up").status, 0);  // --version is required

  // A second solution: commands that serve must be told which one.
  ASSERT_EQ(
      tailor("train " + dir + " --recipe popularity-count --solution pop --no-metrics").status, 0);
  const std::string in = dir + "-in.jsonl";
  std::ofstream(in) << "{\"userId\":\"user-0001\"}\n";
  for (const std::string& command :
       {recommend, "rank " + dir + " --user user-0001 --items item-0001,item-0002",
        "evaluate " + dir, "batch " + dir + " --input " + in + " --output " + dir + "-out.jsonl"}) {
    Result ambiguous = tailor(command);
    EXPECT_EQ(ambiguous.status, 2) << command;
    EXPECT_NE(ambiguous.out.find("pop, up"), std::string::npos) << ambiguous.out;
    EXPECT_NE(ambiguous.out.find("--solution"), std::string::npos) << ambiguous.out;
  }
  EXPECT_EQ(ranked_items(tailor(recommend + " --solution up").out), ranked_items(rec2.out));
  EXPECT_EQ(tailor(recommend + " --solution pop").status, 0);
  fs::remove_all(dir);
  fs::remove(in);
  fs::remove(dir + "-out.jsonl");
}

// A scratch dataset group: interactions with EVENT_VALUE only, removed at the end.
struct ScratchGroup {
  std::string dir, csv;
  explicit ScratchGroup(const std::string& name, const std::string& rows) {
    dir = (fs::temp_directory_path() / ("tailor-cli-" + name + "-" + std::to_string(::getpid())))
              .string();
    fs::remove_all(dir);
    const std::string schema = dir + "-schema.json";
    std::ofstream(schema) << R"({"type":"record","name":"Interactions","fields":[
        {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
        {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"},
        {"name":"EVENT_VALUE","type":["null","float"]}]})";
    csv = dir + ".csv";
    std::ofstream(csv) << "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n" << rows;
    created =
        run(cli() + " create " + dir + " --interactions-schema " + schema + " 2>&1").status == 0 &&
        run(cli() + " import " + dir + " --dataset interactions --csv " + csv + " 2>&1").status ==
            0;
    fs::remove(schema);
  }
  ~ScratchGroup() {
    fs::remove_all(dir);
    fs::remove(csv);
  }
  static std::string cli() { return TAILOR_CLI; }
  Result tailor(const std::string& args) const { return run(cli() + " " + args + " 2>&1"); }
  bool created = false;
};

std::vector<std::string> item_ids(const tailor::detail::Json& list) {
  std::vector<std::string> out;
  for (const tailor::detail::Json& i : list.items()) out.push_back(i.find("itemId")->as_string());
  return out;
}

TEST(IntegrationCli, FilterHistorySeesEveryInteractionByDefault) {
  // "heavy" read r0..r149 (r0 oldest) and clicked c0..c19.
  std::string rows;
  for (int k = 0; k < 150; ++k)
    rows += "heavy,r" + std::to_string(k) + "," + std::to_string(1000 + k) + ",read,\n";
  for (int k = 0; k < 20; ++k)
    rows += "heavy,c" + std::to_string(k) + "," + std::to_string(2000 + k) + ",click,\n";
  ScratchGroup g("history", rows);
  ASSERT_TRUE(g.created);
  ASSERT_EQ(g.tailor("train " + g.dir + " --recipe popularity-count --no-metrics").status, 0);
  const std::string filter =
      " --filter 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"read\")'";
  auto read_items = [](const std::vector<std::string>& ids) {
    std::set<std::string> out;
    for (const std::string& id : ids) {
      if (id[0] == 'r') out.insert(id);
    }
    return out;
  };
  std::set<std::string> oldest;
  for (int k = 0; k < 50; ++k) oldest.insert("r" + std::to_string(k));

  Result all = g.tailor("recommend " + g.dir + " --user heavy -n 500 --json" + filter);
  ASSERT_EQ(all.status, 0) << all.out;
  const auto all_ids = item_ids(*json(all.out).find("itemList"));
  EXPECT_EQ(all_ids.size(), 20u);
  EXPECT_TRUE(read_items(all_ids).empty());
  Result capped =
      g.tailor("recommend " + g.dir + " --user heavy -n 500 --json --filter-history 100" + filter);
  ASSERT_EQ(capped.status, 0) << capped.out;
  EXPECT_EQ(read_items(item_ids(*json(capped.out).find("itemList"))), oldest);

  // Batch: the same, line by line.
  const std::string in = g.dir + "-in.jsonl", out = g.dir + "-out.jsonl";
  std::ofstream(in) << "{\"userId\":\"heavy\"}\n";
  for (const char* history : {"", " --filter-history 100"}) {
    Result batch = g.tailor("batch " + g.dir + " --input " + in + " --output " + out + " -n 500" +
                            filter + history);
    ASSERT_EQ(batch.status, 0) << batch.out;
    std::ifstream lines(out);
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    const tailor::detail::Json row = json(line);  // kept alive while its items are read
    std::vector<std::string> ids;
    for (const auto& id : row.find("output")->find("recommendedItems")->items())
      ids.push_back(id.as_string());
    EXPECT_EQ(read_items(ids), *history ? oldest : std::set<std::string>{}) << history;
  }
  fs::remove(in);
  fs::remove(out);

  for (const char* bad : {"-1", "abc", "1.5", "99999999999999999999"}) {
    Result r = g.tailor("recommend " + g.dir + " --user heavy --filter-history=" + bad + filter);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("--filter-history"), std::string::npos) << r.out;
  }
  Result r = g.tailor("batch " + g.dir + " --input x --output y --filter-history x");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--filter-history"), std::string::npos) << r.out;
}

TEST(IntegrationCli, TrainSelectsWeighsAndUpdates) {
  // popular-read: 10 readers at EVENT_VALUE 0.1; popular-click: 5 clickers at 0.9; low-click:
  // 8 clickers at 0.2.
  std::string rows;
  for (int u = 0; u < 10; ++u)
    rows += "u" + std::to_string(u) + ",popular-read," + std::to_string(100 + u) + ",read,0.1\n";
  for (int u = 0; u < 5; ++u)
    rows += "u" + std::to_string(u) + ",popular-click," + std::to_string(200 + u) + ",click,0.9\n";
  for (int u = 0; u < 8; ++u)
    rows += "u" + std::to_string(u) + ",low-click," + std::to_string(300 + u) + ",click,0.2\n";
  ScratchGroup g("train", rows);
  ASSERT_TRUE(g.created);
  auto top = [&](const std::string& solution) {
    Result r = g.tailor("recommend " + g.dir + " --user nobody -n 1 --json --solution " + solution);
    EXPECT_EQ(r.status, 0) << r.out;
    return r.status == 0 ? item_ids(*json(r.out).find("itemList")).at(0) : std::string();
  };

  // Event selection changes what is trained on.
  ASSERT_EQ(
      g.tailor("train " + g.dir + " --recipe popularity-count --solution all --no-metrics").status,
      0);
  EXPECT_EQ(top("all"), "popular-read");
  ASSERT_EQ(
      g.tailor("train " + g.dir +
               " --recipe popularity-count --solution clicks --no-metrics --event-types CLICK")
          .status,
      0);
  EXPECT_EQ(top("clicks"), "low-click");
  Result selected = g.tailor(
      "train " + g.dir +
      " --recipe popularity-count --solution strong --no-metrics --json"
      " --event-types click,read --event-value-threshold 0.5 --event-weights click=2,read=0.5"
      " --event-value-as-weight");
  ASSERT_EQ(selected.status, 0) << selected.out;
  EXPECT_EQ(top("strong"), "popular-click");  // 0.1 and 0.2 are under the threshold
  {
    const tailor::detail::Json v = json(selected.out);
    EXPECT_EQ(v.find("trainingMode")->as_string(), "FULL");
    const tailor::detail::Json* events = v.find("eventSelection");
    ASSERT_NE(events, nullptr);
    EXPECT_EQ(events->find("eventTypes")->items().size(), 2u);
    EXPECT_DOUBLE_EQ(events->find("eventValueThreshold")->as_real(), 0.5);
    EXPECT_DOUBLE_EQ(events->find("eventTypeWeights")->find("click")->as_real(), 2.0);
    EXPECT_DOUBLE_EQ(events->find("eventTypeWeights")->find("read")->as_real(), 0.5);
    EXPECT_TRUE(events->find("eventValueAsWeight")->as_bool());
  }
  Result stored = g.tailor("evaluate " + g.dir + " --solution all --json");
  ASSERT_EQ(stored.status, 0) << stored.out;
  EXPECT_FALSE(json(stored.out)
                   .find("eventSelection")
                   ->find("eventValueAsWeight")
                   ->as_bool());  // the default

  // Bad numbers and lists exit 2 naming the option.
  for (const std::string& bad :
       {std::string("--event-value-threshold abc"), std::string("--event-value-threshold nan"),
        std::string("--event-value-threshold 1e99"), std::string("--event-weights click=-1"),
        std::string("--event-weights click=x"), std::string("--event-weights click"),
        std::string("--event-weights =2"), std::string("--event-types click,,read"),
        std::string("--event-types click,"), std::string("--mode partial")}) {
    Result r = g.tailor("train " + g.dir + " --recipe popularity-count --no-metrics " + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.out;
    const std::string option = bad.substr(0, bad.find(' '));
    EXPECT_NE(r.out.find(option), std::string::npos) << bad << ": " << r.out;
  }

  // UPDATE: needs a stored version of the solution, then extends it (with its parameters).
  const std::string als =
      "train " + g.dir + " --recipe user-personalization --solution als --no-metrics";
  Result missing = g.tailor(als + " --mode update");
  EXPECT_EQ(missing.status, 3) << missing.out;
  EXPECT_NE(missing.out.find("--mode update"), std::string::npos) << missing.out;
  ASSERT_EQ(g.tailor(als + " --params '{\"factors\": 4, \"iterations\": 2}'").status, 0);
  const std::string events = g.dir + "-events.jsonl";
  std::ofstream(events) << "{\"userId\":\"newcomer\",\"sessionId\":\"s\",\"itemId\":\"new-item\","
                           "\"eventType\":\"read\",\"sentAt\":500}\n";
  ASSERT_EQ(g.tailor("put-events " + g.dir + " --input " + events).status, 0);
  fs::remove(events);
  Result updated = g.tailor(als + " --mode update --json");
  ASSERT_EQ(updated.status, 0) << updated.out;
  EXPECT_EQ(json(updated.out).find("trainingMode")->as_string(), "UPDATE");
  Result evaluated = g.tailor("evaluate " + g.dir + " --solution als --json");
  EXPECT_EQ(json(evaluated.out).find("trainingMode")->as_string(), "UPDATE");  // stored
  Result rec = g.tailor("recommend " + g.dir + " --user newcomer -n 3 --solution als --json");
  ASSERT_EQ(rec.status, 0) << rec.out;
  EXPECT_EQ(json(rec.out).find("itemList")->items().size(), 3u);
  // A recipe without UPDATE, and a version of another recipe, are refused.
  Result sims = g.tailor("train " + g.dir +
                         " --recipe popularity-count --solution all --no-metrics --mode update");
  EXPECT_EQ(sims.status, 2) << sims.out;
  Result other =
      g.tailor("train " + g.dir +
               " --recipe user-personalization --solution all --no-metrics --mode update");
  EXPECT_EQ(other.status, 2) << other.out;
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
      "{\"userId\":\"no-time\"," + good + "}", "",
      "{\"userId\":\"far\"," + good + ",\"sentAt\":1e19}",
      "{\"userId\":\"abc\"," + good + ",\"sentAt\":1,\"eventValue\":\"abc\"}",
      "{\"userId\":42," + good + ",\"sentAt\":1}", "{\"userId\":",
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
    out << R"({"userId":"user-0001","properties":"{broken"})"
        << "\n"
        << R"({"userId":"user-0001","properties":{"department":"Nowhere","shoeSize":44}})"
        << "\n"
        << R"({"userId":"user-0001","properties":7})"
        << "\n"
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

TEST(IntegrationCli, VersionNamesTheKernelTargetAndTheEnvironmentLowersIt) {
  const std::string cli = TAILOR_CLI;
  const std::string best(tailor::detail::cpu_target_name(tailor::detail::cpu_best_target()));
  Result plain = run("TAILOR_CPU_TARGET= " + cli + " --version 2>&1");
  ASSERT_EQ(plain.status, 0) << plain.out;
  EXPECT_NE(plain.out.find("tailor " TAILOR_VERSION_STRING " (kernels: " + best + ")"),
            std::string::npos)
      << plain.out;
  Result lowered = run("TAILOR_CPU_TARGET=baseline " + cli + " --version 2>&1");
  ASSERT_EQ(lowered.status, 0) << lowered.out;
  EXPECT_NE(lowered.out.find("(kernels: baseline)"), std::string::npos) << lowered.out;
  // Not a target: ignored, said on stderr, the best target runs.
  Result unknown = run("TAILOR_CPU_TARGET=avx1024 " + cli + " --version 2>&1");
  ASSERT_EQ(unknown.status, 0) << unknown.out;
  EXPECT_NE(unknown.out.find("TAILOR_CPU_TARGET=avx1024 is ignored"), std::string::npos)
      << unknown.out;
  EXPECT_NE(unknown.out.find("(kernels: " + best + ")"), std::string::npos) << unknown.out;
  Result quiet = run("TAILOR_CPU_TARGET=avx1024 " + cli + " --version 2>/dev/null");
  EXPECT_EQ(quiet.out.find("ignored"), std::string::npos) << quiet.out;  // the note is stderr
}

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
                   "--items expects a comma-separated list without empty entries");
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
