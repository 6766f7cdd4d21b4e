// SPDX-License-Identifier: MIT
// The plug-in path of fresh content: a recipe outside the library (common/community_recipe.hpp)
// implements Model::item_vectors() and Model::serving_settings(), and a campaign scores its items
// put after training from their metadata, explores new items and applies recency, as it does for
// user-personalization.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/community_recipe.hpp"
#include "common/sample.hpp"
#include "tailor/recipes/item_features.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {
namespace {

// Newer than every interaction and item of the sample data.
constexpr std::int64_t kNow = 1790000000;
constexpr double kSecondsPerDay = 86400;

std::unique_ptr<Campaign> community_campaign(const std::shared_ptr<LiveDatasetGroup>& group,
                                             const std::string& params = "{}") {
  test::add_community_recipe();
  Solution solution({"community", "community-vectors", params, {}});
  TrainOptions o;
  o.compute_metrics = false;
  SolutionVersion v = group->read([&](const DatasetGroup& g) { return solution.train(g, o); });
  return std::make_unique<Campaign>(group, solution, std::move(v));
}

EntityRecord item_of(const std::string& id, const std::string& community, std::int64_t created) {
  return {id, R"({"contentType":"blog_post","community":")" + community +
                  R"(","creationTimestamp":)" + std::to_string(created) + "}"};
}

struct User {
  std::string id;
  UserQuery query;
  std::vector<Index> history;
};

// A user whose history leans to Engineering Hub (their vector's first entry is the larger).
User engineer(const std::shared_ptr<LiveDatasetGroup>& group, const Model& model) {
  return group->read([&](const DatasetGroup& g) {
    User out;
    for (Index u = 0; u < g.user_ids().size(); ++u) {
      std::vector<Index> history;
      for (std::size_t r : g.interaction_rows_of(u)) history.push_back(g.interactions().items()[r]);
      UserQuery q;
      q.user = u;  // as the campaign asks: the trained user's vector
      q.history = history;
      float v[2];
      model.item_vectors()->user_vector(q, v);
      if (v[0] > 2 * v[1] + 1) {
        out.id = std::string(g.user_ids().name(u));
        out.query.user = u;
        out.history = std::move(history);
        break;
      }
    }
    out.query.history = out.history;
    return out;
  });
}

// The metadata score u·v serving gives the item `id` (not trained on) for `user`.
float metadata_score(const std::shared_ptr<LiveDatasetGroup>& group, const Model& model,
                     const User& user, const std::string& id) {
  const ItemVectorSpace& space = *model.item_vectors();
  float u[2];
  space.user_vector(user.query, u);
  return group->read([&](const DatasetGroup& g) {
    const AttributeMapping& mapping = *space.attribute_mapping();
    const Eigen::VectorXf v =
        mapping.project(mapping.featurizer.features(*g.items(), g.item_ids().find(id)));
    return u[0] * v[0] + u[1] * v[1];
  });
}

TEST(ItemVectorsPlugIn, ItemsPutAfterTrainingAreScoredFromTheirMetadata) {
  for (const bool softmax : {true, false}) {
    SCOPED_TRACE(softmax ? "softmax" : "no score");
    auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
    auto campaign = community_campaign(group, softmax ? "{}" : R"({"softmax":false})");
    const Model& model = *campaign->version()->model();
    ASSERT_NE(model.item_vectors(), nullptr);
    const User user = engineer(group, model);
    ASSERT_FALSE(user.id.empty());
    // Old enough not to be explored: only their metadata scores bring them in.
    ASSERT_TRUE(campaign
                    ->put_items({item_of("new-eng", "Engineering Hub", 1767225600),
                                 item_of("new-sales", "Sales Hub", 1767225600)})
                    .ok());
    const float eng = metadata_score(group, model, user, "new-eng");
    const float sales = metadata_score(group, model, user, "new-sales");
    ASSERT_GT(eng, sales);

    RankingRequest rank;
    rank.user_id = user.id;
    rank.input_list = {"new-sales", "new-eng"};
    const RecommendationResponse ranked = campaign->get_personalized_ranking(rank);
    ASSERT_EQ(ranked.items.size(), 2u);
    EXPECT_EQ(ranked.items[0].item_id, "new-eng");
    EXPECT_EQ(ranked.items[0].score.has_value(), softmax);
    EXPECT_FLOAT_EQ(ranked.items[0].raw_score, eng);  // scored, not "unknown, last"
    EXPECT_FLOAT_EQ(ranked.items[1].raw_score, sales);

    // With only its community among its features, the new Engineering post outscores every
    // trained item (whose tags and titles share their vectors' weight) for an engineer.
    RecommendationRequest req;
    req.user_id = user.id;
    req.num_results = 5;
    req.exploration_weight = 0.0f;
    const RecommendationResponse r = campaign->get_recommendations(req);
    ASSERT_EQ(r.items.size(), 5u);
    EXPECT_EQ(r.items[0].item_id, "new-eng");
    EXPECT_FLOAT_EQ(r.items[0].raw_score, eng);
    EXPECT_EQ(r.items[0].score.has_value(), softmax);
    EXPECT_FALSE(r.items[0].explored);
    for (const RecommendedItem& i : r.items) EXPECT_NE(i.item_id, "new-sales");
  }
}

TEST(ItemVectorsPlugIn, NewItemsAreExploredByTheModelsServingSettings) {
  auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
  auto campaign = community_campaign(group);
  const User user = engineer(group, *campaign->version()->model());
  ASSERT_FALSE(user.id.empty());
  std::vector<EntityRecord> items;
  for (int k = 0; k < 10; ++k) {
    items.push_back(item_of("eng-" + std::to_string(k), "Engineering Hub", kNow));
    items.push_back(item_of("sales-" + std::to_string(k), "Sales Hub", kNow));
  }
  ASSERT_TRUE(campaign->put_items(items).ok());

  RecommendationRequest req;
  req.user_id = user.id;
  req.num_results = 10;  // the model's exploration weight 0.5: 5 slots
  const RecommendationResponse r = campaign->get_recommendations(req);
  ASSERT_EQ(r.items.size(), 10u);
  int explored = 0;
  for (const RecommendedItem& i : r.items) {
    if (!i.explored) continue;
    ++explored;
    // The user's taste ranks the new Engineering posts first among the new items.
    EXPECT_EQ(i.item_id.rfind("eng-", 0), 0u) << i.item_id;
    EXPECT_FALSE(i.score.has_value());
  }
  EXPECT_EQ(explored, 5);

  // A request's weight overrides the model's.
  req.exploration_weight = 0.2f;
  const RecommendationResponse fewer = campaign->get_recommendations(req);
  EXPECT_EQ(std::count_if(fewer.items.begin(), fewer.items.end(),
                          [](const RecommendedItem& i) { return i.explored; }),
            2);
}

TEST(ItemVectorsPlugIn, RecencyLowersScoresByTheModelsHalfLifeWhateverItsScoreKind) {
  auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
  // "Now" for ages: the newest interaction; each item's age from its CREATION_TIMESTAMP.
  auto age_days = [&](const std::string& id) {
    return group->read([&](const DatasetGroup& g) {
      std::int64_t now = 0;
      for (std::int64_t t : g.interactions().timestamps()) now = std::max(now, t);
      const Column* created = g.items()->column("CREATION_TIMESTAMP");
      const std::int64_t t = created->int_at(g.items()->row_of(g.item_ids().find(id)));
      return std::max(0.0, static_cast<double>(now - t) / kSecondsPerDay);
    });
  };
  constexpr double kHalfLife = 10;
  for (const bool softmax : {true, false}) {
    SCOPED_TRACE(softmax ? "softmax" : "no score");
    const std::string kind = softmax ? "" : R"("softmax":false,)";
    auto plain = community_campaign(group, "{" + kind + R"("recency_half_life":0})");
    auto recent = community_campaign(group, "{" + kind + R"("recency_half_life":10})");
    ASSERT_FLOAT_EQ(recent->version()->model()->serving_settings().recency_half_life, 10.0f);
    const User user = engineer(group, *plain->version()->model());
    ASSERT_FALSE(user.id.empty());
    RecommendationRequest req;
    req.user_id = user.id;
    req.num_results = 10;
    req.exploration_weight = 0.0f;
    const RecommendationResponse r = recent->get_recommendations(req);
    ASSERT_EQ(r.items.size(), 10u);
    // The model's own scores of the same items, from the campaign without recency.
    RankingRequest rank;
    rank.user_id = user.id;
    for (const RecommendedItem& i : r.items) rank.input_list.push_back(i.item_id);
    const RecommendationResponse unadjusted = plain->get_personalized_ranking(rank);
    const RecommendationResponse adjusted = recent->get_personalized_ranking(rank);
    double penalised_sum = 0;
    for (std::size_t k = 0; k < r.items.size(); ++k) {
      const RecommendedItem& i = r.items[k];
      EXPECT_EQ(i.score.has_value(), softmax);
      if (k > 0) {
        EXPECT_LE(i.raw_score, r.items[k - 1].raw_score);
      }
      auto find = [&](const RecommendationResponse& in) {
        return std::find_if(in.items.begin(), in.items.end(),
                            [&](const RecommendedItem& x) { return x.item_id == i.item_id; });
      };
      ASSERT_NE(find(unadjusted), unadjusted.items.end());
      const double expected =
          find(unadjusted)->raw_score - std::log(2.0) * age_days(i.item_id) / kHalfLife;
      EXPECT_NEAR(i.raw_score, expected, 1e-4 * (1 + std::fabs(expected))) << i.item_id;
      EXPECT_NEAR(find(adjusted)->raw_score, expected, 1e-4 * (1 + std::fabs(expected)));
      penalised_sum += find(unadjusted)->raw_score - i.raw_score;
    }
    EXPECT_GT(penalised_sum, 0) << "every item of the sample data is older than now";
  }
}

}  // namespace
}  // namespace tailor
