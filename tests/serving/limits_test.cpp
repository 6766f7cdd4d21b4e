// SPDX-License-Identifier: MIT
// The limits of tailor/limits.hpp are the ones enforced: a request or record at a limit is
// accepted, one past it is refused, naming the limit.
#include "tailor/limits.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/sample.hpp"
#include "tailor/error.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {
namespace {

Campaign popularity_campaign(const std::shared_ptr<LiveDatasetGroup>& group) {
  Solution solution({"popular", "popularity-count", "{}", {}});
  TrainOptions options;
  options.compute_metrics = false;
  return Campaign(group,
                  group->read([&](const DatasetGroup& g) { return solution.train(g, options); }));
}

void expect_refused(const std::function<void()>& f, const std::string& limit) {
  try {
    f();
    ADD_FAILURE() << "accepted past " << limit;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(limit), std::string::npos) << e.what();
  }
}

TEST(ServingLimits, RequestsAtACampaignLimitAreServedAndPastItRefused) {
  auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
  const Campaign campaign = popularity_campaign(group);
  RecommendationRequest request;
  request.user_id = "user-0001";
  request.num_results = CampaignLimits::kMaxNumResults;
  EXPECT_EQ(campaign.get_recommendations(request).items.size(), CampaignLimits::kMaxNumResults);
  request.num_results = CampaignLimits::kMaxNumResults + 1;
  expect_refused([&] { campaign.get_recommendations(request); },
                 std::to_string(CampaignLimits::kMaxNumResults));

  RankingRequest ranking;
  ranking.user_id = "user-0001";
  ranking.input_list.assign(CampaignLimits::kMaxInputList, "item-0001");
  EXPECT_EQ(campaign.get_personalized_ranking(ranking).items.size(), CampaignLimits::kMaxInputList);
  ranking.input_list.push_back("item-0002");
  expect_refused([&] { campaign.get_personalized_ranking(ranking); },
                 std::to_string(CampaignLimits::kMaxInputList));

  request.num_results = 5;
  request.context.assign(CampaignLimits::kMaxContextEntries + 1, {"DEVICE", "phone"});
  expect_refused([&] { campaign.get_recommendations(request); },
                 std::to_string(CampaignLimits::kMaxContextEntries));
}

TEST(ServingLimits, EventsPastAPutLimitAreRejectedAndAtItAccepted) {
  LiveDatasetGroup group(test::sample_group());
  auto event = [](std::size_t impressions, std::size_t recommendation_id, std::size_t id) {
    EventRecord e;
    e.user_id = std::string(id, 'u');
    e.session_id = "session";
    e.item_id = "item-0001";
    e.event_type = "read";
    e.sent_at = 1767225600;
    e.impression.assign(impressions, "item-0002");
    e.recommendation_id = std::string(recommendation_id, 'r');
    return e;
  };
  const PutReport at = group.put_events({event(
      PutLimits::kMaxImpressions, PutLimits::kMaxRecommendationId, PutLimits::kMaxIdLength)});
  EXPECT_EQ(at.accepted, 1u);
  const PutReport past = group.put_events({event(PutLimits::kMaxImpressions + 1, 1, 8),
                                           event(1, PutLimits::kMaxRecommendationId + 1, 8),
                                           event(1, 1, PutLimits::kMaxIdLength + 1)});
  EXPECT_EQ(past.accepted, 0u);
  ASSERT_EQ(past.errors.size(), 3u);
  EXPECT_NE(past.errors[0].reason.find(std::to_string(PutLimits::kMaxImpressions)),
            std::string::npos)
      << past.errors[0].reason;
  EXPECT_NE(past.errors[1].reason.find(std::to_string(PutLimits::kMaxRecommendationId)),
            std::string::npos)
      << past.errors[1].reason;
  EXPECT_NE(past.errors[2].reason.find(std::to_string(PutLimits::kMaxIdLength)), std::string::npos)
      << past.errors[2].reason;
}

}  // namespace
}  // namespace tailor
