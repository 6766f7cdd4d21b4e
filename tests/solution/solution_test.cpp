// SPDX-License-Identifier: MIT
// Solutions: event selection, training with metrics, UPDATE mode, and errors.
#include "tailor/solution/solution.hpp"

#include <gtest/gtest.h>

#include "common/sample.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor {
namespace {

DatasetGroup sample_group() { return test::sample_group(/*users=*/false, /*items=*/false); }

const char* kValuedSchema = R"({"type":"record","name":"Interactions","fields":[
    {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
    {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"},
    {"name":"EVENT_VALUE","type":["null","float"]}]})";

DatasetGroup valued_group() {
  DatasetGroup g(Schema::parse(kValuedSchema, DatasetKind::Interactions));
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Interactions,
                                "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n"
                                "u,a,1,Click,0.2\nu,b,2,click,0.9\nu,c,3,buy,\nu,d,4,view,5\n")
                  .ok());
  return g;
}

TEST(SolutionSolution, EventSelectionFiltersAndWeighsByEventType) {
  DatasetGroup g = valued_group();
  SolutionConfig c{"s", "popularity-count", "{}", EventSelection::from_json(R"({
      "eventTypes": ["CLICK", "buy"], "eventValueThreshold": 0.5,
      "eventTypeWeights": {"buy": 3}})")};
  EXPECT_FALSE(c.events.event_value_as_weight);
  EventColumns e = Solution(c).select_events(g);
  ASSERT_EQ(e.size(), 2u);  // Click 0.2 under the threshold; view not selected
  EXPECT_EQ(g.item_ids().name(e.items[0]), "b");
  // EVENT_VALUE only selected the events: each weighs its event type's weight.
  EXPECT_FLOAT_EQ(e.weights[0], 1.0f);  // click 0.9: click's weight 1
  EXPECT_FLOAT_EQ(e.weights[1], 3.0f);  // buy: weight 3
  std::vector<Index> items;
  std::vector<float> weights;
  Solution(c).user_history(g, g.user_ids().find("u"), items, weights);
  EXPECT_EQ(weights, (std::vector<float>{1.0f, 3.0f}));  // fold-in weighs as training did
  EXPECT_NE(c.events.to_json().find("\"buy\":3"), std::string::npos);
  EXPECT_THROW(EventSelection::from_json(R"({"eventType": ["x"]})"), Error);
  EXPECT_THROW(EventSelection::from_json(R"({"eventTypeWeights": {"x": -1}})"), Error);
  // Nothing left after selection is an error, not an empty model.
  SolutionConfig none{"n", "popularity-count", "{}",
                      EventSelection::from_json(R"({"eventTypes":["share"]})")};
  EXPECT_THROW(Solution(none).train(g), Error);
}

TEST(SolutionSolution, EventValueAsWeightIsAnExplicitChoice) {
  DatasetGroup g = valued_group();
  SolutionConfig c{"s", "popularity-count", "{}", EventSelection::from_json(R"({
      "eventTypes": ["CLICK", "buy"], "eventValueThreshold": 0.5,
      "eventTypeWeights": {"buy": 3, "click": 2}, "eventValueAsWeight": true})")};
  EXPECT_TRUE(c.events.event_value_as_weight);
  EventColumns e = Solution(c).select_events(g);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_FLOAT_EQ(e.weights[0], 2.0f * 0.9f);  // click: weight 2 × EVENT_VALUE 0.9
  EXPECT_FLOAT_EQ(e.weights[1], 3.0f);         // buy: weight 3 × no value (1)
  std::vector<Index> items;
  std::vector<float> weights;
  Solution(c).user_history(g, g.user_ids().find("u"), items, weights);
  EXPECT_EQ(weights, e.weights);
  // The setting survives its JSON form, both ways.
  for (bool on : {true, false}) {
    EventSelection s = c.events;
    s.event_value_as_weight = on;
    const EventSelection back = EventSelection::from_json(s.to_json());
    EXPECT_EQ(back.event_value_as_weight, on);
    EXPECT_EQ(back.event_types, s.event_types);
    EXPECT_EQ(back.event_type_weights, s.event_type_weights);
    EXPECT_EQ(back.event_value_threshold, s.event_value_threshold);
  }
  EXPECT_THROW(EventSelection::from_json(R"({"eventValueAsWeight": 1})"), Error);
  EXPECT_THROW(EventSelection::from_json(R"({"eventValueAsWeight": "yes"})"), Error);
}

TEST(SolutionSolution, AlsAndSimsBeatPopularityOnTheSampleData) {
  DatasetGroup g = sample_group();
  for (const char* recipe : {"user-personalization", "sims"}) {
    Solution s({recipe, recipe, "{}", {}});
    TrainOptions o;
    std::vector<TrainingProgress> progress;
    o.progress = [&](const TrainingProgress& p) { progress.push_back(p); };
    SolutionVersion v = s.train(g, o);
    ASSERT_TRUE(v.metrics().has_value());
    ASSERT_TRUE(v.baseline_metrics().has_value());
    const RankingMetrics& m = *v.metrics();
    const RankingMetrics& b = *v.baseline_metrics();
    EXPECT_GT(m.users_evaluated, 30u);
    EXPECT_GT(m.normalized_discounted_cumulative_gain_at_10,
              1.2 * b.normalized_discounted_cumulative_gain_at_10)
        << recipe;
    EXPECT_GT(m.precision_at_10, b.precision_at_10) << recipe;
    EXPECT_GT(m.coverage, b.coverage) << recipe;
    EXPECT_FALSE(progress.empty());
    EXPECT_EQ(v.model()->recipe(), recipe);
    EXPECT_EQ(v.model()->num_items(), g.item_ids().size());
  }
}

TEST(SolutionSolution, MetricsDoNotDependOnThreadCount) {
  DatasetGroup g = sample_group();
  Solution s({"als", "user-personalization", R"({"factors": 16, "iterations": 5})", {}});
  TrainOptions one, two;
  one.execution.num_threads = 1;
  two.execution.num_threads = 2;
  EXPECT_EQ(s.train(g, one).metrics()->to_json(), s.train(g, two).metrics()->to_json());
}

TEST(SolutionSolution, UpdateModeNeedsAPreviousVersionAndAnAlsRecipe) {
  DatasetGroup g = sample_group();
  Solution als({"als", "user-personalization", R"({"factors": 8, "iterations": 3})", {}});
  TrainOptions full;
  full.compute_metrics = false;
  SolutionVersion v1 = als.train(g, full);
  EXPECT_FALSE(v1.metrics().has_value());
  TrainOptions update = full;
  update.mode = TrainingMode::Update;
  EXPECT_THROW(als.train(g, update), Error);  // no previous version
  ImportOptions inc;
  inc.mode = ImportMode::Incremental;
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions,
                                "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n"
                                "new-user,item-0001,1800000000,read,1\n"
                                "new-user,brand-new-item,1800000001,read,1\n",
                                inc)
                  .ok());
  SolutionVersion v2 = als.train(g, update, &v1);
  EXPECT_EQ(v2.mode(), TrainingMode::Update);
  EXPECT_EQ(v2.model()->num_users(), g.user_ids().size());
  EXPECT_EQ(v2.model()->num_items(), g.item_ids().size());
  const auto& m1 = dynamic_cast<const AlsModel&>(*v1.model());
  const auto& m2 = dynamic_cast<const AlsModel&>(*v2.model());
  EXPECT_TRUE(m2.item_factors().topRows(m1.num_items()) == m1.item_factors());
  Solution sims({"sims", "sims", "{}", {}});
  SolutionVersion s1 = sims.train(g, full);
  EXPECT_THROW(sims.train(g, update, &s1), Error);
  // UPDATE extends a version of the same recipe only.
  try {
    als.train(g, update, &s1);
    FAIL() << "updated a sims version with user-personalization";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("recipe sims"), std::string::npos) << e.what();
  }
}

TEST(SolutionSolution, BadConfigurationIsRefused) {
  EXPECT_THROW(Solution({"x", "no-such-recipe", "{}", {}}), Error);
  EXPECT_THROW(Solution({"x", "sims", R"({"neighbors": "many"})", {}}), Error);
  EXPECT_THROW(Solution({"", "sims", "{}", {}}), Error);
}

}  // namespace
}  // namespace tailor
