// SPDX-License-Identifier: MIT
// HttpService over a real socket: every endpoint's answer and its errors, limits, timeouts,
// authentication and many clients at once, on a store of the sample data.
#include "tailor/service/http_service.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/sample.hpp"
#include "common/temp_dir.hpp"
#include "service/http_client.hpp"
#include "tailor/error.hpp"
#include "tailor/persistence/persistence.hpp"

namespace tailor {
namespace {

namespace fs = std::filesystem;
using test::HttpClient;
using test::Reply;

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("tailor-service") {}
};

// Trained once for the whole suite: each test gets a fresh store holding them.
const std::vector<SolutionVersion>& trained_versions() {
  static const std::vector<SolutionVersion> versions = [] {
    const DatasetGroup g = test::sample_group();
    TrainOptions o;
    o.compute_metrics = false;
    std::vector<SolutionVersion> out;
    out.push_back(
        Solution({"als", "user-personalization", R"({"factors": 8, "iterations": 2})", {}})
            .train(g, o));
    out.push_back(Solution({"pop", "popularity-count", "{}", {}}).train(g, o));
    out.push_back(Solution({"sims", "sims", "{}", {}}).train(g, o));
    return out;
  }();
  return versions;
}

std::unique_ptr<Store> make_store(const std::string& dir, std::size_t solutions = 3) {
  auto store = Store::create(dir, test::sample_group());
  for (std::size_t k = 0; k < solutions; ++k) store->save_version(trained_versions()[k]);
  return store;
}

class HttpServiceTest : public ::testing::Test {
 protected:
  // Starts a service on a free loopback port over a new store.
  void serve(HttpServiceOptions options = {}, std::size_t solutions = 3) {
    options.log = [](const std::string&) {};  // the tests read state, not the log
    service_ = std::make_unique<HttpService>(make_store(dir_.path, solutions), options);
    service_->start("127.0.0.1", 0, 4);
    port_ = service_->port();
    ASSERT_NE(port_, 0);
  }
  // Stops the service and opens its store read-only, to see what it made durable.
  std::unique_ptr<Store> reopen() {
    service_.reset();
    StoreOptions o;
    o.access = StoreAccess::ReadOnly;
    return Store::open(dir_.path, o);
  }
  std::unique_ptr<HttpClient> client() { return std::make_unique<HttpClient>(port_); }

  TempDir dir_;
  std::unique_ptr<HttpService> service_;
  std::uint16_t port_ = 0;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST_F(HttpServiceTest, RecommendationsOnOneKeptAliveConnection) {
  serve();
  auto c = client();
  for (int k = 0; k < 5; ++k) {
    const Reply r =
        c->post("/recommendations", R"({"userId":"user-0001","numResults":7,"campaignArn":"als"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(count(r.body, "\"itemId\""), 7u) << r.body;
    EXPECT_EQ(count(r.body, "\"score\""), 7u) << r.body;
    EXPECT_TRUE(has(r.body, "\"recommendationId\":\"")) << r.body;
  }
  // An ARN names the solution by its last part; an unknown user gets popular items.
  const Reply arn = c->post(
      "/recommendations",
      R"({"userId":"nobody","campaignArn":"arn:aws:personalize:us-east-1:1:campaign/pop"})");
  ASSERT_EQ(arn.status, 200) << arn.body;
  EXPECT_EQ(count(arn.body, "\"itemId\""), 25u);
  // Context and filterValues in Personalize's forms are taken.
  const Reply context = c->post(
      "/recommendations",
      R"({"userId":"user-0002","campaignArn":"als","context":{"DEVICE":"phone"},"numResults":3})");
  EXPECT_EQ(context.status, 200) << context.body;
}

TEST_F(HttpServiceTest, RecommendationsErrors) {
  serve();
  auto c = client();
  Reply r = c->post("/recommendations", R"({"userId":"user-0001"})");
  EXPECT_EQ(r.status, 400);  // three solutions: which one?
  EXPECT_TRUE(has(r.body, "\"__type\":\"InvalidInputException\"")) << r.body;
  EXPECT_TRUE(has(r.body, "campaignArn")) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"missing"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(has(r.body, "ResourceNotFoundException")) << r.body;
  r = c->post("/recommendations", R"({"itemId":"no-such-item","campaignArn":"sims"})");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_TRUE(has(r.body, "ResourceNotFoundException")) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als","filterArn":"nf"})");
  EXPECT_EQ(r.status, 404) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als","numResults":-1})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als","numResults":501})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c->post("/recommendations", R"({"userId":7,"campaignArn":"als"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "userId must be a string")) << r.body;
  r = c->post("/recommendations", R"({"userId":"u","userId":"v","campaignArn":"als"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "twice")) << r.body;
  r = c->post("/recommendations", R"({"user":"user-0001","campaignArn":"als"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "unknown key \\\"user\\\"")) << r.body;
  r = c->post("/recommendations", R"({"campaignArn":"als"})");
  EXPECT_EQ(r.status, 400);
  // The connection survived every refusal.
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als"})");
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServiceTest, MalformedJsonIsABadRequestWithAMessage) {
  serve();
  auto c = client();
  for (const char* body : {R"({"userId":"user-0001")", "[1,2]", "", "nul", "{\"a\":\"\xff\"}"}) {
    const Reply r = c->post("/recommendations", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(has(r.body, "\"__type\":\"InvalidInputException\",\"message\":\"")) << r.body;
  }
  const Reply r = c->post("/events", "{\"eventList\":[{]}");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "malformed JSON")) << r.body;
}

TEST_F(HttpServiceTest, PersonalizedRanking) {
  serve();
  auto c = client();
  Reply r = c->post(
      "/personalize-ranking",
      R"({"userId":"user-0001","campaignArn":"als","inputList":["nope","item-0001","item-0002"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(has(r.body, "{\"personalizedRanking\":[")) << r.body;
  EXPECT_TRUE(has(r.body, "{\"itemId\":\"nope\"}]")) << r.body;  // unknown: last, no score
  EXPECT_EQ(count(r.body, "\"score\""), 2u);
  r = c->post("/personalize-ranking", R"({"campaignArn":"als","inputList":["item-0001"]})");
  EXPECT_EQ(r.status, 400);
  r = c->post("/personalize-ranking", R"({"userId":"user-0001","campaignArn":"als"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "inputList")) << r.body;
  r = c->post("/personalize-ranking",
              R"({"userId":"user-0001","campaignArn":"als","inputList":"item-0001"})");
  EXPECT_EQ(r.status, 400);
}

TEST_F(HttpServiceTest, MetadataColumnsAndReasonsInPersonalizesShape) {
  serve();
  auto c = client();
  Reply r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als",
      "numResults":3,"metadataColumns":{"ITEMS":["COMMUNITY","TITLE"]},"explain":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(count(r.body, "\"metadata\":{\"COMMUNITY\":"), 3u) << r.body;
  EXPECT_EQ(count(r.body, ",\"TITLE\":"), 3u) << r.body;
  EXPECT_EQ(count(r.body, "\"reason\":[\"Interacted with "), 3u) << r.body;
  r = c->post("/personalize-ranking", R"({"userId":"user-0001","campaignArn":"als",
      "inputList":["item-0001","item-0002"],"metadataColumns":{"ITEMS":["COMMUNITY"]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(count(r.body, "\"metadata\":{\"COMMUNITY\":"), 2u) << r.body;
  // Without the asking, neither appears.
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als","numResults":3})");
  EXPECT_FALSE(has(r.body, "\"metadata\"")) << r.body;
  EXPECT_FALSE(has(r.body, "\"reason\"")) << r.body;
  // A column the items do not have, a dataset other than ITEMS, a list that is not one, a bad
  // explain: 400 with the reason.
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als",
      "metadataColumns":{"ITEMS":["NO_SUCH_COLUMN"]}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has(r.body, "NO_SUCH_COLUMN")) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als",
      "metadataColumns":{"USERS":["DEPARTMENT"]}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has(r.body, "expected ITEMS")) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als",
      "metadataColumns":{"ITEMS":"COMMUNITY"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als","explain":1})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has(r.body, "explain must be true or false")) << r.body;
}

TEST_F(HttpServiceTest, EventsAreDurableWhenAcknowledged) {
  serve();
  auto c = client();
  Reply r =
      c->post("/events", R"({"trackingId":"t","sessionId":"s1","userId":"http-user","eventList":[
      {"eventId":"e1","eventType":"read","itemId":"item-0001","sentAt":1767314726},
      {"eventId":"e2","eventType":"read","itemId":"item-0002","sentAt":1767314727}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":2,"rejected":0,"duplicates":0,"errors":[]})");
  // A retry of an acknowledged event is accepted but not stored twice, and says so.
  r = c->post("/events", R"({"sessionId":"s1","userId":"http-user","eventList":[
      {"eventId":"e1","eventType":"read","itemId":"item-0001","sentAt":1767314726},
      {"eventId":"e3","eventType":"read","itemId":"item-0003","sentAt":1767314728}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":2,"rejected":0,"duplicates":1,"errors":[]})");
  // Read but refused by the group (a property the schema lacks): the rest is stored.
  r = c->post("/events", R"({"sessionId":"s1","userId":"http-user-2","eventList":[
      {"eventType":"read","itemId":"item-0001","sentAt":1767314726},
      {"eventType":"read","itemId":"item-0002","sentAt":1767314727,
       "properties":"{\"device\":\"phone\"}"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(
      has(r.body,
          R"({"accepted":1,"rejected":1,"duplicates":0,"errors":[{"index":1,"field":"properties")"))
      << r.body;
  // One unreadable event refuses the call: nothing of it is stored.
  r = c->post("/events", R"({"sessionId":"s1","userId":"bad-user","eventList":[
      {"eventType":"read","itemId":"item-0001","sentAt":1767314726},
      {"eventType":"read","itemId":"item-0002","sentAt":"yesterday"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "eventList[1].sentAt")) << r.body;
  // Events that are read but all refused are a bad request too (no sessionId).
  r = c->post("/events", R"({"userId":"bad-user","eventList":[
      {"eventType":"read","itemId":"item-0001","sentAt":1767314726}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  std::string eleven;
  for (int k = 0; k < 11; ++k) {
    eleven += std::string(k ? "," : "") + R"({"eventType":"read","itemId":"i","sentAt":1})";
  }
  r = c->post("/events", R"({"sessionId":"s","userId":"u","eventList":[)" + eleven + "]}");
  EXPECT_EQ(r.status, 400);
  r = c->post("/events", R"({"sessionId":"s","userId":"u","eventList":[]})");
  EXPECT_EQ(r.status, 400);
  r = c->post("/events", R"({"sessionId":"s","userId":"u","eventList":[1]})");
  EXPECT_EQ(r.status, 400);

  const auto store = reopen();
  store->group()->read([](const DatasetGroup& g) {
    EXPECT_NE(g.user_ids().find("http-user"), kNoIndex);
    EXPECT_NE(g.user_ids().find("http-user-2"), kNoIndex);
    EXPECT_EQ(g.user_ids().find("bad-user"), kNoIndex);
    return 0;
  });
}

TEST_F(HttpServiceTest, UsersAndItemsPutAndDeleted) {
  serve();
  auto c = client();
  Reply r = c->post("/users", R"({"datasetArn":"d","users":[
      {"userId":"new-user","properties":"{\"department\":\"Data\",\"country\":\"FR\",\"role\":\"intern\"}"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(has(r.body, "\"accepted\":1")) << r.body;
  r = c->post("/items", R"({"items":[{"itemId":"new-item","properties":{"contentType":"blog_post",
      "community":"Sales Hub","tags":"x","title":"t","creationTimestamp":1771110042}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c->post("/items", R"({"items":[{"itemId":"bad-item","properties":{"NO_SUCH_FIELD":1}}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c->post("/users", R"({"users":[{"id":"x"}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c->post("/users", R"({"people":[]})");
  EXPECT_EQ(r.status, 400) << r.body;

  r = c->post("/delete-users", R"({"userIds":["user-0003","nobody"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(has(r.body, "\"deleted\":1,\"unknown\":1")) << r.body;
  r = c->post("/delete-items", R"({"itemIds":["new-item"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(has(r.body, "\"deleted\":1")) << r.body;
  r = c->post("/delete-items", R"({"itemIds":[]})");
  EXPECT_EQ(r.status, 400);
  r = c->post("/delete-items", R"({"ids":["x"]})");
  EXPECT_EQ(r.status, 400);

  const auto store = reopen();
  store->group()->read([](const DatasetGroup& g) {
    EXPECT_NE(g.user_ids().find("new-user"), kNoIndex);
    EXPECT_EQ(g.user_ids().find("user-0003"), kNoIndex);
    EXPECT_EQ(g.item_ids().find("new-item"), kNoIndex);
    return 0;
  });
}

TEST_F(HttpServiceTest, FiltersCreatedListedUsedAndDeleted) {
  serve();
  auto c = client();
  Reply r = c->post(
      "/filters",
      R"J({"name":"unread","filterExpression":"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"read\")"})J");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"filterArn":"unread"})");
  r = c->post(
      "/filters",
      R"J({"name":"by-type","filterExpression":"INCLUDE ItemID WHERE Items.CONTENT_TYPE IN ($TYPES)"})J");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c->get("/filters");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(has(r.body, "\"name\":\"unread\"")) << r.body;
  EXPECT_TRUE(has(r.body, "\"name\":\"by-type\"")) << r.body;
  r = c->get("/filters/unread");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(has(r.body, "EVENT_TYPE")) << r.body;

  r = c->post("/recommendations",
              R"({"userId":"user-0001","campaignArn":"als","filterArn":"arn:x:filter/unread"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als",
      "filterArn":"by-type","filterValues":{"TYPES":"\"blog_post\""}})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = c->post("/recommendations",
              R"({"userId":"user-0001","campaignArn":"als","filterArn":"by-type"})");
  EXPECT_EQ(r.status, 400) << r.body;  // the parameter's value is missing
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als","promotions":[
      {"name":"blogs","percentPromotedItems":20,"filterArn":"by-type",
       "filterValues":{"TYPES":"\"blog_post\""}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(has(r.body, "\"promotionName\":\"blogs\"")) << r.body;

  r = c->post("/filters", R"J({"name":"bad","filterExpression":"EXCLUDE nonsense"})J");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c->post(
      "/filters",
      R"J({"name":"../etc","filterExpression":"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"read\")"})J");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c->request("DELETE", "/filters/unread");
  EXPECT_EQ(r.status, 200) << r.body;
  r = c->request("DELETE", "/filters/unread");
  EXPECT_EQ(r.status, 404) << r.body;
  r = c->post("/recommendations",
              R"({"userId":"user-0001","campaignArn":"als","filterArn":"unread"})");
  EXPECT_EQ(r.status, 404) << r.body;

  const auto store = reopen();  // the catalog has what the API did
  const auto filters = store->filters();
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_EQ(filters[0].first, "by-type");
}

TEST_F(HttpServiceTest, SolutionsListedAndRetrainedInTheBackground) {
  serve({}, 2);
  auto c = client();
  Reply r = c->get("/solutions");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(has(r.body, "\"name\":\"als\"")) << r.body;
  EXPECT_TRUE(has(r.body, "\"activeVersion\":\"000001\"")) << r.body;
  r = c->post("/solutions/pop/versions", "");
  ASSERT_EQ(r.status, 202) << r.body;
  // Wait for the swap (no time is asserted: the loop ends when the new version serves).
  for (int k = 0; k < 600 && !has(r.body, "\"activeVersion\":\"000002\""); ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = c->get("/solutions");
  }
  EXPECT_TRUE(has(r.body,
                  "\"name\":\"pop\",\"solutionArn\":\"pop\",\"status\":\"ACTIVE\","
                  "\"recipe\":\"popularity-count\",\"activeVersion\":\"000002\""))
      << r.body;
  r = c->post("/solutions/nope/versions", "");
  EXPECT_EQ(r.status, 404);
  // A body is read, not ignored: a trainingMode other than the server's would not be done.
  r = c->post("/solutions/pop/versions", R"({"trainingMode":"UPDATE"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has(r.body, "FULL")) << r.body;
  EXPECT_EQ(c->post("/solutions/pop/versions", "not json").status, 400);
  EXPECT_EQ(c->post("/solutions/pop/versions", R"({"trainingMod":"FULL"})").status, 400);
  r = c->get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(has(r.headers.at("content-type"), "text/plain")) << r.headers.at("content-type");
  EXPECT_TRUE(has(r.body, "tailor_training_runs_total{solution=\"pop\"} 1")) << r.body;
  EXPECT_TRUE(has(r.body, "tailor_active_version{solution=\"pop\",version=\"000002\"} 1"))
      << r.body;
  const auto store = reopen();
  EXPECT_EQ(store->active_version("pop"), "000002");
}

TEST_F(HttpServiceTest, AFailedRetrainIsShownAndThePreviousVersionServes) {
  HttpServiceOptions options;
  options.retrain_mode = TrainingMode::Update;  // popularity-count cannot update
  serve(options, 2);
  auto c = client();
  ASSERT_EQ(c->post("/solutions/pop/versions", "").status, 202);
  Reply r = c->get("/metrics");
  for (int k = 0; k < 600 && !has(r.body, "tailor_training_failures_total{solution=\"pop\"} 1");
       ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = c->get("/metrics");
  }
  EXPECT_TRUE(has(r.body, "tailor_training_failures_total{solution=\"pop\"} 1")) << r.body;
  r = c->get("/solutions");
  EXPECT_TRUE(has(r.body, "\"lastTrainingError\":\"")) << r.body;
  EXPECT_TRUE(has(r.body, "\"activeVersion\":\"000001\"")) << r.body;
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"pop"})");
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServiceTest, EventsCanTriggerRetraining) {
  HttpServiceOptions options;
  options.retrain_after_events = 2;
  serve(options, 1);
  auto c = client();
  ASSERT_EQ(c->post("/events", R"({"sessionId":"s","userId":"u","eventList":[
      {"eventType":"read","itemId":"item-0001","sentAt":1767314726},
      {"eventType":"read","itemId":"item-0002","sentAt":1767314726}]})")
                .status,
            200);
  Reply r = c->get("/solutions");
  for (int k = 0; k < 600 && !has(r.body, "\"activeVersion\":\"000002\""); ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = c->get("/solutions");
  }
  EXPECT_TRUE(has(r.body, "\"activeVersion\":\"000002\"")) << r.body;
}

TEST_F(HttpServiceTest, HealthMetricsAndRouting) {
  serve();
  auto c = client();
  Reply r = c->get("/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok","solutions":3})");
  r = c->get("/no-such-path");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(has(r.body, "UnknownOperationException")) << r.body;
  r = c->get("/recommendations");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("allow"), "POST");
  r = c->request("PUT", "/filters");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("allow"), "POST, GET");
  // A path is never a file: these are unknown operations or unknown names.
  EXPECT_EQ(c->get("/../../etc/passwd").status, 404);
  EXPECT_EQ(c->get("/filters/..%2F..%2Fcatalog").status, 404);
  EXPECT_EQ(c->post("/solutions/../versions", "").status, 404);
  r = c->get("/metrics");
  EXPECT_TRUE(has(r.body, "tailor_http_requests_total{endpoint=\"health\",status=\"200\"} 1"))
      << r.body;
  EXPECT_TRUE(has(r.body, "tailor_http_request_duration_seconds_bucket{endpoint=\"health\",le="))
      << r.body;
  EXPECT_TRUE(has(r.body, "tailor_events_total{result=\"accepted\"} 0")) << r.body;
}

TEST_F(HttpServiceTest, TokenRequiredOnEveryRequest) {
  HttpServiceOptions options;
  options.token = "s3cret-token";
  serve(options);
  auto c = client();
  Reply r = c->get("/health");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(has(r.body, "MissingAuthenticationTokenException")) << r.body;
  EXPECT_EQ(r.headers.at("www-authenticate"), "Bearer");
  r = c->post("/events", "{}", "Authorization: Bearer s3cret-tokeN\r\n");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(has(r.body, "UnrecognizedClientException")) << r.body;
  EXPECT_EQ(c->get("/health", "Authorization: Bearer s3cret\r\n").status, 401);
  EXPECT_EQ(c->get("/health", "Authorization: Bearer s3cret-token-and-more\r\n").status, 401);
  EXPECT_EQ(c->get("/health", "Authorization: Basic s3cret-token\r\n").status, 401);
  EXPECT_EQ(c->get("/health", "Authorization: Bearer s3cret-token\r\n").status, 200);
  EXPECT_EQ(c->get("/health", "Authorization: bearer s3cret-token\r\n").status, 200);
  r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als"})",
              "Authorization: Bearer s3cret-token\r\n");
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServiceTest, OversizedBodiesAndHeadersAreRefused) {
  HttpServiceOptions options;
  options.max_body_bytes = 1024;
  options.max_header_bytes = 2048;
  serve(options);
  {
    auto c = client();
    const Reply r = c->post("/events", std::string(4096, ' '));
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(has(r.body, "1024 bytes")) << r.body;
    EXPECT_EQ(r.headers.at("connection"), "close");
  }
  {
    auto c = client();
    const Reply r = c->get("/health", "X-Padding: " + std::string(4096, 'x') + "\r\n");
    EXPECT_EQ(r.status, 431);
  }
  {
    auto c = client();  // just under the limit is answered
    const Reply r = c->post("/recommendations", R"({"userId":"user-0001","campaignArn":"als"})" +
                                                    std::string(900, ' '));
    EXPECT_EQ(r.status, 200);
  }
  {
    auto c = client();
    ASSERT_TRUE(c->send_raw("NOT HTTP AT ALL\r\n\r\n"));
    EXPECT_EQ(c->read_reply().status, 400);
  }
}

TEST_F(HttpServiceTest, ABodyOfUnknownLengthIsRefusedNotReadAsTheNextRequest) {
  serve();
  // Only "chunked" is decoded. With another last transfer coding the body's length is unknown;
  // read as no body, its bytes would run as a second request (smuggled past a proxy that framed
  // the message differently).
  ASSERT_EQ(
      client()
          ->post(
              "/filters",
              R"J({"name":"blogs","filterExpression":"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"read\")"})J")
          .status,
      200);
  const std::string smuggled = "DELETE /filters/blogs HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string coding : {"chunked, identity", "identity", "gzip, chunked", "gzip"}) {
    auto c = client();
    ASSERT_TRUE(c->send_raw("POST /recommendations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " +
                            coding + "\r\n\r\n" + smuggled));
    const Reply r = c->read_reply();
    EXPECT_EQ(r.status, 400) << coding;
    EXPECT_TRUE(has(r.body, "Transfer-Encoding")) << r.body;
    EXPECT_EQ(c->read_reply().status, 0) << coding << ": the body ran as a request";
  }
  auto c = client();  // a second Transfer-Encoding field is refused too
  ASSERT_TRUE(
      c->send_raw("POST /recommendations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: identity\r\n\r\n" +
                  smuggled));
  EXPECT_EQ(c->read_reply().status, 400);
  EXPECT_EQ(c->read_reply().status, 0);
  // Plain chunked bodies are read.
  auto d = client();
  const std::string body = R"({"userId":"user-0001","campaignArn":"als"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  ASSERT_TRUE(d->send_raw(
      "POST /recommendations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
      std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n"));
  EXPECT_EQ(d->read_reply().status, 200);
  EXPECT_EQ(client()->get("/filters/blogs").status, 200);
}

TEST_F(HttpServiceTest, SlowAndIdleClientsAreDisconnected) {
  HttpServiceOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  options.idle_timeout = std::chrono::milliseconds(200);
  serve(options);
  auto slow = client();
  ASSERT_TRUE(
      slow->send_raw("POST /recommendations HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n"));
  EXPECT_TRUE(slow->closed_by_server());
  auto idle = client();
  EXPECT_EQ(idle->get("/health").status, 200);
  EXPECT_TRUE(idle->closed_by_server());  // kept alive, then idle too long
  auto fresh = client();
  EXPECT_EQ(fresh->get("/health").status, 200);  // the workers are free
}

TEST_F(HttpServiceTest, ManyClientsAtOnceWithKeepAlive) {
  serve();
  constexpr int kClients = 24, kRequests = 40;
  std::atomic<int> ok{0}, events{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(port_);
      for (int k = 0; k < kRequests; ++k) {
        Reply r;
        if (k % 5 == 4) {
          r = c.post("/events", R"({"sessionId":"s","userId":"load-)" + std::to_string(t) +
                                    R"(","eventList":[{"eventType":"read","itemId":"item-0001",)"
                                    R"("sentAt":1767314726}]})");
          if (r.status == 200) ++events;
        } else {
          r = c.post("/recommendations", R"({"userId":"user-00)" + std::to_string(10 + t) +
                                             R"(","campaignArn":"als","numResults":10})");
        }
        if (r.status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  const auto store = reopen();
  store->group()->read([&](const DatasetGroup& g) {
    for (int t = 0; t < kClients; ++t) {
      EXPECT_NE(g.user_ids().find("load-" + std::to_string(t)), kNoIndex);
    }
    return 0;
  });
}

TEST_F(HttpServiceTest, ConnectionsBeyondTheLimitAreRefused) {
  HttpServiceOptions options;
  options.max_connections = 2;
  serve(options);
  auto a = client();
  auto b = client();
  EXPECT_EQ(a->get("/health").status, 200);
  EXPECT_EQ(b->get("/health").status, 200);
  auto c = client();
  const Reply r = c->get("/health");
  EXPECT_EQ(r.status, 429);
  EXPECT_TRUE(has(r.body, "LimitExceededException")) << r.body;
  // The refusals are counted like every other answer, so that /metrics shows a server at its limit.
  EXPECT_TRUE(has(a->get("/metrics").body,
                  "tailor_http_requests_total{endpoint=\"other\",status=\"429\"} 1"));
}

TEST_F(HttpServiceTest, OneClientAtItsConnectionLimitLeavesRoomForOthers) {
  HttpServiceOptions options;
  options.max_connections_per_client = 2;
  serve(options);
  auto a = client();
  auto b = client();
  EXPECT_EQ(a->get("/health").status, 200);
  EXPECT_EQ(b->get("/health").status, 200);
  const Reply refused = client()->get("/health");
  EXPECT_EQ(refused.status, 429);
  EXPECT_TRUE(has(refused.body, "LimitExceededException")) << refused.body;
  // Another address is another client: it is served while the first is at its limit.
  HttpClient other(port_, 20, "127.0.0.2");
  EXPECT_EQ(other.get("/health").status, 200);
  // A closed connection gives its place back (once the server has seen it close).
  a.reset();
  int status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    status = client()->get("/health").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpServiceTest, AnHttp10ClientAskingForKeepAliveIsToldItIsKept) {
  serve();
  auto c = client();
  // An HTTP/1.0 connection closes after the answer unless the answer says keep-alive.
  ASSERT_TRUE(c->send_raw("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  Reply r = c->read_reply();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "keep-alive");
  ASSERT_TRUE(c->send_raw("GET /health HTTP/1.0\r\n\r\n"));
  r = c->read_reply();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(c->closed_by_server());  // without keep-alive, HTTP/1.0 closes
}

// CPU seconds this process has used.
double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

TEST_F(HttpServiceTest, OutOfFileDescriptorsTheServerWaitsInsteadOfSpinning) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtimes need descriptors of their own (a pipe to check that memory is
  // readable): with none left they report errors that are not the program's.
  GTEST_SKIP() << "exhausts file descriptors, which the sanitizer runtime needs";
#endif
  serve();
  // A socket made while descriptors remain, connected when none does: the server's accept fails
  // with EMFILE for as long as the limit holds.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit none = saved;
  none.rlim_cur = static_cast<rlim_t>(lowest_free);  // every descriptor below it is in use
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &none), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double spent = process_cpu_seconds() - before;
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_EQ(connected, 0);
  // Retrying accept at once fails at once: a loop that took a whole core (about 0.5 s here).
  EXPECT_LT(spent, 0.1);
  // Descriptors back, the waiting connection is accepted and answered.
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char reply[64] = {};
  EXPECT_GT(::recv(fd, reply, sizeof reply - 1, 0), 0);
  EXPECT_TRUE(has(reply, "200 OK")) << reply;
  ::close(fd);
}

TEST_F(HttpServiceTest, AnObjectOfManyKeysIsReadInLinearTime) {
  serve();
  // 90,000 keys in a body under the 1 MiB limit: each key was compared with every one before
  // it (looking for a key given twice), some 4e9 comparisons, seconds of a worker per request.
  std::string keys;
  for (int k = 0; k < 90000; ++k) keys += (k ? ",\"" : "\"") + std::to_string(k) + "\":\"\"";
  const std::string body = R"({"userId":"user-0001","campaignArn":"als","context":{)" + keys + "}}";
  ASSERT_LT(body.size(), 1048576u);
  auto c = client();
  const double before = process_cpu_seconds();
  const Reply r = c->post("/recommendations", body);
  const double spent = process_cpu_seconds() - before;
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(has(r.body, "more than the limit of 150")) << r.body;
  EXPECT_LT(spent, 2.0);  // milliseconds of work when linear
  // A key given twice is still refused.
  EXPECT_TRUE(has(
      c->post("/recommendations",
              R"({"userId":"user-0001","campaignArn":"als","context":{"a":"1","b":"2","a":"3"}})")
          .body,
      "a twice"));
}

TEST_F(HttpServiceTest, StopAnswersNothingMoreAndRestartServesTheSameState) {
  serve();
  {
    auto c = client();
    ASSERT_EQ(
        c->post(
             "/filters",
             R"J({"name":"unread","filterExpression":"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"read\")"})J")
            .status,
        200);
    ASSERT_EQ(c->post("/events", R"({"sessionId":"s","userId":"before-restart","eventList":[
        {"eventType":"read","itemId":"item-0001","sentAt":1767314726}]})")
                  .status,
              200);
    service_->stop();
    EXPECT_TRUE(c->closed_by_server());
  }
  service_.reset();
  HttpServiceOptions options;
  options.log = [](const std::string&) {};
  HttpService again(dir_.path, options);
  again.start("127.0.0.1", 0, 2);
  HttpClient c(again.port());
  EXPECT_TRUE(has(c.get("/filters").body, "\"unread\""));
  const Reply r =
      c.post("/personalize-ranking",
             R"({"userId":"before-restart","campaignArn":"als","inputList":["item-0001"]})");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(HttpServiceTest, ASecondWriterIsRefusedByTheGroupLock) {
  serve();
  StoreOptions o;
  o.lock_wait = std::chrono::milliseconds(0);
  try {
    Store::open(dir_.path, o);
    ADD_FAILURE() << "a second writer opened a served group";
  } catch (const tailor::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Busy) << e.what();
  }
}

TEST(HttpServiceInMemory, HandlesRequestsWithoutSockets) {
  TrainOptions o;
  o.compute_metrics = false;
  auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
  HttpServiceOptions options;
  options.log = [](const std::string&) {};
  HttpService service(group, {trained_versions()[1]}, options);
  HttpRequest request;
  request.method = "POST";
  request.target = "/recommendations?ignored=1";
  request.body = R"({"userId":"user-0001","numResults":2})";  // one solution: no campaignArn
  HttpResponse r = service.handle(request);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(count(r.body, "\"itemId\""), 2u);
  request.target = "/filters";
  request.body =
      R"J({"name":"f","filterExpression":"EXCLUDE ItemID WHERE Items.CONTENT_TYPE IN (\"blog_post\")"})J";
  EXPECT_EQ(service.handle(request).status, 200);
  request.method = "GET";
  EXPECT_TRUE(has(service.handle(request).body, "\"name\":\"f\""));
  EXPECT_EQ(service.port(), 0);
  EXPECT_THROW(HttpService(group, {}, options), tailor::Error);  // nothing to serve
}

}  // namespace
}  // namespace tailor
