// SPDX-License-Identifier: MIT
// recommend_all: the same answers as get_recommendations() one by one, whether or not the model
// offers a block scorer, and the block scorer used when it does.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/cpu_targets.hpp"
#include "common/sample.hpp"
#include "recipes/als/block_simd.hpp"
#include "recipes/als/ordered_catalog.hpp"
#include "tailor/error.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {
namespace {

// A block scorer that counts the blocks it scores and leaves the scoring to another.
class CountingBlockScorer : public BlockScorer {
 public:
  explicit CountingBlockScorer(const BlockScorer& inner) : inner_(inner) {}
  std::size_t state_size() const override { return inner_.state_size(); }
  void user_state(const UserQuery& query, float* state) const override {
    inner_.user_state(query, state);
  }
  Index chunk_alignment() const override { return inner_.chunk_alignment(); }
  void score_block(const float* states, std::size_t users_count, Index first, Index count,
                   float* out, std::size_t out_stride) const override {
    ++blocks;
    inner_.score_block(states, users_count, first, count, out, out_stride);
  }
  mutable std::atomic<int> blocks{0};

 private:
  const BlockScorer& inner_;
};

// A trained model as it is, with its block scorer counted, or without one.
class ForwardingModel : public Model {
 public:
  ForwardingModel(std::shared_ptr<const Model> inner, bool block_scoring)
      : inner_(std::move(inner)) {
    if (block_scoring) counting_ = std::make_unique<CountingBlockScorer>(*inner_->block_scorer());
  }
  const std::string& recipe() const override { return inner_->recipe(); }
  Index num_items() const override { return inner_->num_items(); }
  Index num_users() const override { return inner_->num_users(); }
  bool personalized() const override { return inner_->personalized(); }
  ScoreKind score_kind() const override { return inner_->score_kind(); }
  const BlockScorer* block_scorer() const override { return counting_.get(); }
  void score_all(const UserQuery& query, std::vector<float>& scores) const override {
    inner_->score_all(query, scores);
  }
  void score(const UserQuery& query, Span<Index> items, std::vector<float>& scores) const override {
    inner_->score(query, items, scores);
  }
  std::unique_ptr<UserScorer> scorer(const UserQuery& query) const override {
    return inner_->scorer(query);
  }
  void recommend(const UserQuery& query, std::size_t k, const ItemMask& mask,
                 std::vector<ScoredItem>& out) const override {
    inner_->recommend(query, k, mask, out);
  }
  int blocks() const { return counting_ ? counting_->blocks.load() : 0; }

 private:
  std::shared_ptr<const Model> inner_;
  std::unique_ptr<CountingBlockScorer> counting_;
};

TEST(BatchRecommendAll, SameAnswersWithAndWithoutABlockScorer) {
  auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
  Solution solution({"als", "user-personalization", R"({"factors": 8, "iterations": 3})", {}});
  TrainOptions o;
  o.compute_metrics = false;
  const SolutionVersion trained =
      group->read([&](const DatasetGroup& g) { return solution.train(g, o); });
  ASSERT_NE(trained.model()->block_scorer(), nullptr);
  auto with_blocks = std::make_shared<const ForwardingModel>(trained.model(), true);
  auto without_blocks = std::make_shared<const ForwardingModel>(trained.model(), false);
  auto serve = [&](std::shared_ptr<const Model> model) {
    return std::make_unique<Campaign>(
        group, solution,
        SolutionVersion(solution.config(), TrainingMode::Full, std::move(model), std::nullopt,
                        std::nullopt, 0));
  };
  const auto blocked = serve(with_blocks);
  const auto one_by_one = serve(without_blocks);

  const Filter unread = group->read([](const DatasetGroup& g) {
    return Filter::compile(R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))", g);
  });
  std::vector<RecommendationRequest> requests;
  for (const char* user : {"user-0001", "user-0002", "nobody", "user-0003"}) {
    RecommendationRequest r;
    r.user_id = user;
    r.num_results = 9;
    requests.push_back(r);
    r.filter = unread;
    requests.push_back(r);
  }
  RecommendationRequest excluding;
  excluding.user_id = "user-0005";
  excluding.excluded_item_ids = {"item-0008", "item-0016", "item-0000"};
  requests.push_back(excluding);
  RecommendationRequest too_many;
  too_many.user_id = "user-0006";
  too_many.num_results = CampaignLimits::kMaxNumResults + 1;
  requests.push_back(too_many);

  ExecutionOptions two;
  two.num_threads = 2;
  const std::vector<RecommendationResult> a = recommend_all(*blocked, requests, two);
  EXPECT_GT(with_blocks->blocks(), 0) << "the block scorer was not used";
  const std::vector<RecommendationResult> b = recommend_all(*one_by_one, requests, two);
  ASSERT_EQ(a.size(), requests.size());
  ASSERT_EQ(b.size(), requests.size());
  for (std::size_t k = 0; k + 1 < requests.size(); ++k) {
    ASSERT_TRUE(a[k].ok()) << a[k].message;
    ASSERT_TRUE(b[k].ok()) << b[k].message;
    const RecommendationResponse one = one_by_one->get_recommendations(requests[k]);
    ASSERT_EQ(a[k].response.items.size(), one.items.size()) << "request " << k;
    ASSERT_EQ(b[k].response.items.size(), one.items.size()) << "request " << k;
    EXPECT_EQ(a[k].response.cold_start, one.cold_start);
    EXPECT_EQ(b[k].response.cold_start, one.cold_start);
    for (std::size_t i = 0; i < one.items.size(); ++i) {
      EXPECT_EQ(a[k].response.items[i].item_id, one.items[i].item_id) << k << "/" << i;
      EXPECT_EQ(b[k].response.items[i].item_id, one.items[i].item_id) << k << "/" << i;
      ASSERT_EQ(a[k].response.items[i].score.has_value(), one.items[i].score.has_value());
      if (one.items[i].score) {
        EXPECT_NEAR(*a[k].response.items[i].score, *one.items[i].score, 1e-6);
        EXPECT_NEAR(*b[k].response.items[i].score, *one.items[i].score, 1e-6);
      }
    }
  }
  // The request past the limit fails alone, the same way on both paths.
  EXPECT_EQ(a.back().error, ErrorCode::InvalidArgument);
  EXPECT_EQ(b.back().error, ErrorCode::InvalidArgument);
  EXPECT_EQ(a.back().message, b.back().message);
}

TEST(BatchRecommendAll, EveryUserInGroupsAndChunksGetsTheOneByOneAnswerOnEveryTarget) {
  // All 600 users of the sample: more than one parallel block (512 users), several groups of
  // users a block-scoring call, the last one partial, and more than one chunk of items. Block
  // scores are bitwise the single request's (the catalogue scan's), so the items are the same,
  // in the same order, on each target. 10 factors: not a multiple of the kernels' four sums.
  auto group = std::make_shared<LiveDatasetGroup>(test::sample_group());
  Solution solution({"als", "user-personalization", R"({"factors": 10, "iterations": 3})", {}});
  TrainOptions o;
  o.compute_metrics = false;
  const SolutionVersion trained =
      group->read([&](const DatasetGroup& g) { return solution.train(g, o); });
  ASSERT_NE(trained.model()->block_scorer(), nullptr);
  ASSERT_GT(trained.model()->num_items(), 1024u);
  Campaign campaign(group, solution, trained);
  const Filter unread = group->read([](const DatasetGroup& g) {
    return Filter::compile(R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))", g);
  });
  std::vector<RecommendationRequest> requests;
  group->read([&](const DatasetGroup& g) {
    for (Index u = 0; u < g.user_ids().size(); ++u) {
      RecommendationRequest r;
      r.user_id = std::string(g.user_ids().name(u));
      r.num_results = 5 + u % 21;
      if (u % 7 == 3) r.filter = unread;
      if (u % 11 == 5) r.excluded_item_ids = {"item-0008", "item-0016"};
      requests.push_back(r);
    }
  });
  ASSERT_GT(requests.size(), 512u);
  ExecutionOptions two;
  two.num_threads = 2;
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    const std::vector<RecommendationResult> all = recommend_all(campaign, requests, two);
    ASSERT_EQ(all.size(), requests.size());
    for (std::size_t k = 0; k < requests.size(); ++k) {
      ASSERT_TRUE(all[k].ok()) << all[k].message;
      const RecommendationResponse one = campaign.get_recommendations(requests[k]);
      ASSERT_EQ(all[k].response.items.size(), one.items.size()) << requests[k].user_id;
      // One by one, the softmax normaliser sums the approximate scan's scores (exact for the
      // ranked items): within the scan's bound of the exact one. The batch path's is within its
      // own bound of it (exact where the target has no 8-bit batch kernel).
      UserQuery query;
      query.user = static_cast<Index>(k);
      std::vector<float> approximate;
      const ScoreBound bound = trained.model()->scorer(query)->approximate_scores(approximate);
      const BlockScorer& blocks = *trained.model()->block_scorer();
      std::vector<float> state(blocks.state_size()), batch_state(blocks.approximate_state_size());
      blocks.user_state(query, state.data());
      const ScoreBound batch_bound =
          batch_state.empty() ? ScoreBound{}
                              : blocks.approximate_state(state.data(), batch_state.data());
      const double relative =
          std::expm1(static_cast<double>(bound.max()) + static_cast<double>(batch_bound.max()));
      for (std::size_t i = 0; i < one.items.size(); ++i) {
        const RecommendedItem &a = all[k].response.items[i], &b = one.items[i];
        ASSERT_EQ(a.item_id, b.item_id) << requests[k].user_id << " rank " << i;
        ASSERT_EQ(a.raw_score, b.raw_score) << requests[k].user_id << " rank " << i;
        ASSERT_TRUE(a.score && b.score);
        ASSERT_NEAR(*a.score, *b.score, *a.score * relative + 1e-7)
            << requests[k].user_id << " rank " << i;
      }
    }
  }
}

// Where the CPU has fast 8-bit products, batch jobs rank from approximate scores and re-score the
// few candidates exactly (detail::batch_int8); elsewhere from float32 block scores. Either way each
// user's items, their order and raw scores are those of a full sort of score_all() (ties by lower
// index) without the excluded items, and the softmax normaliser is within the user's bound of the
// exact log-sum-exp, also for users whose scans stopped early (their normalisers completed from
// the ordered catalog's moments). Some requests ask for no results. `deleted` users have zero
// factors: they have no approximate state and are ranked from exact scores among the others of
// their block. `stopped`: how many users' scans stopped early over all targets
// (detail::OrderedCatalog::tails_summed()).
void expect_model_ranks_as_a_full_sort(const std::shared_ptr<LiveDatasetGroup>& group,
                                       const std::shared_ptr<const Model>& model,
                                       const std::vector<Index>& deleted,
                                       std::uint64_t* stopped = nullptr) {
  ASSERT_GT(model->num_items(), 1024u);
  Solution solution({"als", "user-personalization", "{}", {}});
  Campaign campaign(
      group, solution,
      SolutionVersion(solution.config(), TrainingMode::Full, model, std::nullopt, std::nullopt, 0));
  std::vector<RecommendationRequest> requests;
  std::vector<std::vector<Index>> excluded;
  group->read([&](const DatasetGroup& g) {
    for (Index u = 0; u < g.user_ids().size(); ++u) {
      RecommendationRequest r;
      r.user_id = std::string(g.user_ids().name(u));
      r.num_results = u % 37;  // zero results too
      excluded.emplace_back();
      if (u % 3 == 1) {
        for (Index i : {Index{8}, Index{16} + u % 5, Index{1000}}) {
          r.excluded_item_ids.push_back(std::string(g.item_ids().name(i)));
          excluded.back().push_back(i);
        }
      }
      requests.push_back(r);
    }
  });
  const BlockScorer& blocks = *model->block_scorer();
  ExecutionOptions two;
  two.num_threads = 2;
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    test::ScopedCpuTarget scope(target);
    std::size_t approximate_users = 0;
    const std::size_t approximate_size = blocks.approximate_state_size();
    EXPECT_EQ(approximate_size > 0, detail::batch_int8(target));
    const std::vector<RecommendationResult> all = recommend_all(campaign, requests, two);
    ASSERT_EQ(all.size(), requests.size());
    for (std::size_t k = 0; k < requests.size(); ++k) {
      ASSERT_TRUE(all[k].ok()) << all[k].message;
      UserQuery query;
      query.user = static_cast<Index>(k);
      std::vector<float> exact;
      model->score_all(query, exact);
      // The user's bound, as recommend_all() gets it.
      std::vector<float> state(blocks.state_size()), approximate(approximate_size);
      blocks.user_state(query, state.data());
      const ScoreBound bound = approximate_size > 0
                                   ? blocks.approximate_state(state.data(), approximate.data())
                                   : ScoreBound{};
      approximate_users += bound.exact() ? 0 : 1;
      if (std::find(deleted.begin(), deleted.end(), query.user) != deleted.end()) {
        EXPECT_TRUE(bound.exact()) << "a user of zero factors has no approximate state";
      }
      // The reference: a full sort, ties by lower index.
      std::vector<Index> order;
      double top = -std::numeric_limits<double>::infinity();
      for (Index i = 0; i < exact.size(); ++i) {
        top = std::max(top, static_cast<double>(exact[i]));
        const std::vector<Index>& out = excluded[k];
        if (std::find(out.begin(), out.end(), i) == out.end()) order.push_back(i);
      }
      std::stable_sort(order.begin(), order.end(),
                       [&](Index a, Index b) { return exact[a] > exact[b]; });
      double sum = 0;
      for (float s : exact) sum += std::exp(static_cast<double>(s) - top);
      const double normaliser = top + std::log(sum);
      const std::vector<RecommendedItem>& items = all[k].response.items;
      ASSERT_EQ(items.size(), requests[k].num_results) << requests[k].user_id;
      for (std::size_t r = 0; r < items.size(); ++r) {
        const Index item = order[r];
        const std::string name = group->read(
            [&](const DatasetGroup& g) { return std::string(g.item_ids().name(item)); });
        ASSERT_EQ(items[r].item_id, name) << requests[k].user_id << " rank " << r;
        ASSERT_EQ(items[r].raw_score, exact[item]) << requests[k].user_id << " rank " << r;
        ASSERT_TRUE(items[r].score.has_value());
        // |log softmax − (raw − exact normaliser)| ≤ the bound, and float rounding; a softmax
        // below double's range (a long user's items far below their best) is 0.
        const double expected = static_cast<double>(exact[item]) - normaliser;
        const double within = static_cast<double>(bound.max()) + 1e-5;
        if (expected - within < -700) {
          ASSERT_LE(*items[r].score, std::exp(expected + within))
              << requests[k].user_id << " rank " << r;
          continue;
        }
        ASSERT_LE(std::abs(std::log(*items[r].score) - expected), within)
            << requests[k].user_id << " rank " << r;
      }
    }
    if (detail::batch_int8(target)) {
      EXPECT_GT(approximate_users, 0u)
          << "the approximate path was not taken on " << detail::cpu_target_name(target);
    }
  }
  const detail::OrderedCatalog* catalog = blocks.ordered_catalog();
  if (stopped) *stopped = catalog ? catalog->tails_summed() : 0;
}

// The same for a model trained on the group, two of its users deleted.
void expect_blocks_rank_as_a_full_sort(const std::shared_ptr<LiveDatasetGroup>& group,
                                       std::uint64_t* stopped = nullptr) {
  Solution solution({"als", "user-personalization", R"({"factors": 16, "iterations": 3})", {}});
  TrainOptions o;
  o.compute_metrics = false;
  const SolutionVersion trained =
      group->read([&](const DatasetGroup& g) { return solution.train(g, o); });
  const std::vector<Index> deleted = {3, 10};
  expect_model_ranks_as_a_full_sort(group, trained.model()->without(deleted, {}), deleted, stopped);
}

// Whether batch jobs rank from 8-bit scores on some target this CPU runs.
bool some_target_ranks_from_bytes() {
  for (detail::CpuTarget target : detail::cpu_supported_targets()) {
    if (detail::batch_int8(target)) return true;
  }
  return false;
}

TEST(BatchRecommendAll, ApproximateBlocksRankAsAFullSortOfTheExactScoresOnEveryTarget) {
  expect_blocks_rank_as_a_full_sort(std::make_shared<LiveDatasetGroup>(test::sample_group()));
}

// 9,000 items: the 8-bit path folds each user's scores in rows of 2,048 items. 400 users, each
// with 30 events on items drawn with a skew (a few popular items, many rare ones), and every item
// at least once.
std::shared_ptr<LiveDatasetGroup> skewed_group() {
  std::string csv = "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n";
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int u = 0; u < 400; ++u) {
    for (int e = 0; e < 30; ++e) {
      const int item = static_cast<int>(9000 * std::pow(unit(rng), 2.0));
      csv += "user-" + std::to_string(u) + ",item-" + std::to_string(item) + ",read," +
             std::to_string(1700000000 + u * 100 + e) + "\n";
    }
  }
  for (int i = 0; i < 9000; ++i) {
    csv += "user-" + std::to_string(i % 400) + ",item-" + std::to_string(i) + ",read,1700000000\n";
  }
  DatasetGroup g(Schema::parse(R"({"type": "record", "name": "Interactions", "fields": [
      {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
      {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}]})",
                               DatasetKind::Interactions));
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Interactions, csv).ok());
  EXPECT_EQ(g.item_ids().size(), 9000u);
  return std::make_shared<LiveDatasetGroup>(std::move(g));
}

TEST(BatchRecommendAll, ACatalogOfManyRowsRanksAsAFullSortOfTheExactScoresOnEveryTarget) {
  // Here a user's threshold is seeded from the first row and rises over the next ones, the
  // running normaliser moves to larger scores as they come, and the popular items' long factor
  // vectors come first in the ordered catalog: most users stop after a row or two.
  std::uint64_t stopped = 0;
  expect_blocks_rank_as_a_full_sort(skewed_group(), &stopped);
  if (some_target_ranks_from_bytes()) {
    EXPECT_GT(stopped, 0u) << "no user's scan stopped early: the tails went untested";
  }
}

TEST(BatchRecommendAll, UsersStopEarlyOnlyWhereTheirTopKAndNormaliserAllowIt) {
  // Item factors of skewed lengths (item i about 3/(1 + i/30)), users of lengths from 10^−6 to
  // 1,000: short users stop after the first row, long ones (whose tails' Taylor remainders are too
  // large, or whose top k the long vectors left could still reach) scan on, and every user's
  // answer is still a full sort's.
  const auto group = skewed_group();
  const auto [num_users, num_items] = group->read([](const DatasetGroup& g) {
    return std::make_pair(static_cast<Index>(g.user_ids().size()),
                          static_cast<Index>(g.item_ids().size()));
  });
  const int f = 12;
  std::mt19937_64 rng(31);
  std::normal_distribution<float> normal(0, 1);
  FactorMatrix items(num_items, f), users(num_users, f);
  for (Index i = 0; i < num_items; ++i) {
    for (int k = 0; k < f; ++k) items(i, k) = normal(rng);
    items.row(i) *= (3.0f / (1.0f + static_cast<float>(i) / 30.0f)) / items.row(i).norm();
  }
  const float lengths[] = {1e-6f, 0.01f, 0.3f, 1.0f, 5.0f, 40.0f, 300.0f, 1000.0f};
  for (Index u = 0; u < num_users; ++u) {
    for (int k = 0; k < f; ++k) users(u, k) = normal(rng);
    users.row(u) *= lengths[u % 8] / users.row(u).norm();
  }
  const std::vector<Index> deleted = {4};
  users.row(4).setZero();
  const auto model = std::make_shared<const AlsModel>("user-personalization", AlsParams{}, users,
                                                      items, std::vector<Index>{7, 20});
  std::uint64_t stopped = 0;
  expect_model_ranks_as_a_full_sort(group, model, deleted, &stopped);
  if (some_target_ranks_from_bytes()) {
    EXPECT_GT(stopped, 0u);
    std::size_t targets = 0;
    for (detail::CpuTarget target : detail::cpu_supported_targets()) {
      targets += detail::batch_int8(target) ? 1 : 0;
    }
    EXPECT_LT(stopped, targets * (num_users - deleted.size()))
        << "every user stopped early: the long users' refusals went untested";
  }
}

}  // namespace
}  // namespace tailor
