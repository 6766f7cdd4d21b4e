// SPDX-License-Identifier: MIT
// End to end on the sample data: train --hpo-config and info, recommend --explain, inspect, and
// report (rendered by a headless Chromium when one is installed).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/run_command.hpp"
#include "io/json.hpp"

namespace {

namespace fs = std::filesystem;

using Result = tailor::test::CommandResult;
Result run(const std::string& command) { return tailor::test::run_command(command); }

tailor::detail::Json json(const std::string& text) {
  return tailor::detail::parse_json(text, "command output");
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One group with the sample data and a tuned ALS solution, shared by the tests below.
class IntegrationTune : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("tailor-tune-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    const std::string data = std::string(TAILOR_SOURCE_DIR) + "/data/";
    ASSERT_EQ(tailor("create " + dir_ + " --interactions-schema " + data +
                     "interactions_schema.json --users-schema " + data +
                     "users_schema.json --items-schema " + data + "items_schema.json")
                  .status,
              0);
    ASSERT_EQ(
        tailor("import " + dir_ + " --dataset interactions --csv " + data + "interactions.csv")
            .status,
        0);
    ASSERT_EQ(tailor("import " + dir_ + " --dataset items --csv " + data + "items.csv").status, 0);
    const std::string config = dir_ + "-hpo.json";
    std::ofstream(config) << R"({"hpoConfig":{
        "hpoObjective":{"type":"Maximize","metricName":"precision_at_10"},
        "hpoResourceConfig":{"maxNumberOfTrainingJobs":"4","maxParallelTrainingJobs":"2"},
        "algorithmHyperParameterRanges":{
          "integerHyperParameterRanges":[{"name":"factors","minValue":8,"maxValue":16}],
          "continuousHyperParameterRanges":[
            {"name":"alpha","minValue":0.5,"maxValue":20,"scalingType":"Logarithmic"}]}}})";
    trained_ = tailor("train " + dir_ + " --recipe user-personalization --solution als " +
                      "--params '{\"iterations\":4}' --hpo-config " + config + " --json");
  }
  static void TearDownTestSuite() {
    fs::remove_all(dir_);
    fs::remove(dir_ + "-hpo.json");
  }
  static Result tailor(const std::string& args) {
    return run(std::string(TAILOR_CLI) + " " + args + " 2>&1");
  }
  static std::string dir_;
  static Result trained_;
};
std::string IntegrationTune::dir_;
Result IntegrationTune::trained_;

TEST_F(IntegrationTune, TrainHpoConfigRecordsTheSearchInTheVersion) {
  ASSERT_EQ(trained_.status, 0) << trained_.out;
  const tailor::detail::Json trained = json(trained_.out);
  ASSERT_NE(trained.find("hpo"), nullptr) << trained_.out;

  const Result info = tailor("info " + dir_ + " --json");
  ASSERT_EQ(info.status, 0) << info.out;
  const tailor::detail::Json listed = json(info.out);
  const tailor::detail::Json& version =
      listed.find("solutions")->items().at(0).find("versions")->items().at(0);
  const tailor::detail::Json* hpo = version.find("hpo");
  ASSERT_NE(hpo, nullptr) << info.out;
  // 4 trainings: three configurations on a third of the users, the best one on all of them.
  const auto& jobs = hpo->find("trainingJobs")->items();
  ASSERT_EQ(jobs.size(), 4u);
  for (const auto& job : jobs) {
    const auto* params = job.find("hyperParameters");
    EXPECT_GE(params->find("factors")->as_int(), 8);
    EXPECT_LE(params->find("factors")->as_int(), 16);
    EXPECT_EQ(params->find("iterations")->as_int(), 4);
  }
  EXPECT_EQ(hpo->find("hpoConfig")->find("hpoObjective")->find("metricName")->as_string(),
            "precision_at_10");
  EXPECT_GT(hpo->find("validationUsers")->as_int(), 0);

  // Bad configs exit 2 with the reason; the default ranges of --hpo fit the recipe.
  const std::string bad = dir_ + "-bad.json";
  std::ofstream(bad) << R"({"hpoObjective":{"metricName":"accuracy"}})";
  const Result refused =
      tailor("train " + dir_ + " --recipe user-personalization --hpo-config " + bad);
  fs::remove(bad);
  EXPECT_EQ(refused.status, 2) << refused.out;
  EXPECT_TRUE(has(refused.out, "unknown metricName \"accuracy\"")) << refused.out;
  EXPECT_EQ(tailor("train " + dir_ + " --recipe trending-now --hpo").status, 2);
}

TEST_F(IntegrationTune, RecommendExplainGivesReasonsOnlyWhenAsked) {
  ASSERT_EQ(trained_.status, 0) << trained_.out;
  const Result plain = tailor("recommend " + dir_ + " --user user-0325 -n 5 --json");
  ASSERT_EQ(plain.status, 0) << plain.out;
  EXPECT_FALSE(has(plain.out, "\"reason\""));
  const Result explained = tailor("recommend " + dir_ + " --user user-0325 -n 5 --explain --json");
  ASSERT_EQ(explained.status, 0) << explained.out;
  const tailor::detail::Json response = json(explained.out);
  const auto& items = response.find("itemList")->items();
  ASSERT_EQ(items.size(), 5u);
  for (const auto& item : items) {
    const auto* reason = item.find("reason");
    ASSERT_NE(reason, nullptr) << explained.out;
    ASSERT_FALSE(reason->items().empty());
    EXPECT_TRUE(has(reason->items()[0].as_string(), "Interacted with item-"))
        << reason->items()[0].as_string();
  }
}

TEST_F(IntegrationTune, InspectShowsHistoryBesideRecommendations) {
  ASSERT_EQ(trained_.status, 0) << trained_.out;
  const Result table =
      tailor("inspect " + dir_ + " --user user-0325 --metadata COMMUNITY,TITLE -n 4");
  ASSERT_EQ(table.status, 0) << table.out;
  EXPECT_TRUE(has(table.out, "recent history")) << table.out;
  EXPECT_TRUE(has(table.out, "COMMUNITY")) << table.out;
  EXPECT_TRUE(has(table.out, "Interacted with item-")) << table.out;

  const Result out =
      tailor("inspect " + dir_ + " --user user-0325 --metadata COMMUNITY -n 4 --history 3 --json");
  ASSERT_EQ(out.status, 0) << out.out;
  const tailor::detail::Json j = json(out.out);
  EXPECT_EQ(j.find("userId")->as_string(), "user-0325");
  EXPECT_EQ(j.find("solution")->as_string(), "als");
  ASSERT_EQ(j.find("history")->items().size(), 3u);
  EXPECT_FALSE(
      j.find("history")->items()[0].find("metadata")->find("COMMUNITY")->as_string().empty());
  ASSERT_EQ(j.find("recommendations")->items().size(), 4u);
  EXPECT_FALSE(j.find("recommendations")->items()[0].find("reason")->items().empty());

  EXPECT_EQ(tailor("inspect " + dir_ + " --user nobody").status, 3);
  EXPECT_EQ(tailor("inspect " + dir_ + " --user user-0325 --solution nope").status, 3);
  const Result column = tailor("inspect " + dir_ + " --user user-0325 --metadata GENRE");
  EXPECT_EQ(column.status, 2);
  EXPECT_TRUE(has(column.out, "no items column \"GENRE\"")) << column.out;
}

TEST_F(IntegrationTune, ReportIsOneSelfContainedPageThatChromiumRenders) {
  ASSERT_EQ(trained_.status, 0) << trained_.out;
  const std::string html = dir_ + "-report.html";
  const Result written =
      tailor("report " + dir_ + " --solution als --metadata TITLE --output " + html);
  ASSERT_EQ(written.status, 0) << written.out;
  const std::string page = read(html);
  for (const char* part :
       {"<svg", "NDCG@K", "Coverage@K", "top 1% of items", "Age of items", "Raw scores",
        "Sample users", "normalized_discounted_cumulative_gain_at_10", "popularity-count",
        "Interacted with item-"}) {
    EXPECT_TRUE(has(page, part)) << "missing: " << part;
  }
  // Nothing loads from elsewhere: no scripts, links or sources at all.
  for (const char* part : {"<script", "src=", "href=", "http:", "https:", "url("}) {
    EXPECT_FALSE(has(page, part)) << "found: " << part;
  }
  EXPECT_EQ(tailor("report " + dir_ + " --solution nope --output " + html).status, 3);

  const Result which = run("command -v chromium 2>/dev/null");
  if (which.status != 0 || which.out.empty()) {
    fs::remove(html);
    GTEST_SKIP() << "chromium is not installed (Debian package chromium)";
  }
  // Render to a PNG; the console log goes to stderr, which is captured with the output.
  const std::string png = dir_ + "-report.png";
  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 "
      "--window-size=1200,2400 ";
  const Result shot = run(chromium + "--screenshot=" + png + " file://" + html + " 2>&1");
  EXPECT_EQ(shot.status, 0) << shot.out;
  EXPECT_FALSE(has(shot.out, ":CONSOLE")) << "console messages:\n" << shot.out;
  ASSERT_TRUE(fs::exists(png)) << shot.out;
  // A blank page compresses to a few kilobytes; tables, text and charts do not.
  EXPECT_GT(fs::file_size(png), 30000u);
  const Result dom = run(chromium + "--dump-dom file://" + html + " 2>/dev/null");
  EXPECT_TRUE(has(dom.out, "Sample users")) << "the rendered page is empty";
  fs::remove(png);
  fs::remove(html);
}

}  // namespace
