// SPDX-License-Identifier: MIT
// RecommendationRequest::explain: reasons only when asked, the model's history items for ranked
// items, "Popular item" for back-fill, "Promoted item" and "Similar to" for similar items.
#include <gtest/gtest.h>

#include "common/sample.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {
namespace {

std::unique_ptr<Campaign> campaign_of(const std::shared_ptr<LiveDatasetGroup>& group,
                                      const char* recipe, const char* params) {
  Solution solution({recipe, recipe, params, {}});
  TrainOptions o;
  o.compute_metrics = false;
  SolutionVersion v = group->read([&](const DatasetGroup& g) { return solution.train(g, o); });
  return std::make_unique<Campaign>(group, solution, std::move(v));
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

TEST(ServingExplain, ReasonsComeOnlyWhenAskedAndSayWhereEachItemCameFrom) {
  auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
  const std::string user =
      group->read([](const DatasetGroup& g) { return std::string(g.user_ids().name(3)); });
  auto als = campaign_of(group, "user-personalization", R"({"factors":8,"iterations":3})");
  RecommendationRequest request;
  request.user_id = user;
  request.num_results = 5;
  for (const RecommendedItem& item : als->get_recommendations(request).items)
    EXPECT_TRUE(item.reason.empty());

  request.explain = true;
  const RecommendationResponse explained = als->get_recommendations(request);
  ASSERT_EQ(explained.items.size(), 5u);
  for (const RecommendedItem& item : explained.items) {
    ASSERT_FALSE(item.reason.empty()) << item.item_id;
    EXPECT_LE(item.reason.size(), 3u);
    EXPECT_TRUE(starts_with(item.reason[0], "Interacted with ")) << item.reason[0];
  }

  // A promotion's items say so; an unknown user's popular items are not explained by history.
  Promotion promotion;
  promotion.name = "promo";
  promotion.percent_promoted_items = 40;
  promotion.filter = group->read([](const DatasetGroup& g) {
    return Filter::compile(R"(INCLUDE ItemID WHERE Items.CONTENT_TYPE IN ("blog_post"))", g);
  });
  request.promotion = promotion;
  int promoted = 0;
  for (const RecommendedItem& item : als->get_recommendations(request).items) {
    if (!item.promotion_name.empty()) {
      ++promoted;
      EXPECT_EQ(item.reason.at(0), "Promoted item");
    }
  }
  EXPECT_EQ(promoted, 2);
  request.promotion.reset();
  request.user_id = "someone-new";
  for (const RecommendedItem& item : als->get_recommendations(request).items)
    EXPECT_EQ(item.reason, std::vector<std::string>{"Popular item"});

  // Similar items came from the item asked about.
  auto sims = campaign_of(group, "sims", "{}");
  RecommendationRequest similar;
  similar.item_id =
      group->read([](const DatasetGroup& g) { return std::string(g.item_ids().name(0)); });
  similar.num_results = 3;
  similar.explain = true;
  for (const RecommendedItem& item : sims->get_recommendations(similar).items) {
    ASSERT_FALSE(item.reason.empty());
    EXPECT_TRUE(item.reason[0] == "Similar to " + similar.item_id ||
                item.reason[0] == "Popular item")
        << item.reason[0];
  }
}

}  // namespace
}  // namespace tailor
