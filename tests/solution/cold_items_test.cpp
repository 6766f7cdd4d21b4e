// SPDX-License-Identifier: MIT
// Cold-item evaluation on the sample data: the newest 10% of items held out with their
// interactions, ranked, explored and given similar items from their metadata alone.
#include "tailor/solution/cold_items.hpp"

#include <gtest/gtest.h>

#include "common/community_recipe.hpp"
#include "common/sample.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

TEST(ColdItems, MetadataRanksHeldOutItemsAboveRandomAndExplorationShowsThem) {
  const DatasetGroup g = test::sample_group();
  ColdItemOptions o;
  o.genre_field = "COMMUNITY";
  const ColdItemReport r = evaluate_cold_items(g, {"s", "user-personalization", "{}", {}}, o);
  EXPECT_EQ(r.cold_items, 120u);  // 10% of the 1,200 items, all of them read
  EXPECT_GT(r.test_users, 100u);
  // (a) The targets: ranking the cold items from metadata beats a random order by half again.
  EXPECT_GE(r.cold_ndcg_at_10, 1.5 * r.random_ndcg_at_10);
  EXPECT_GT(r.cold_recall_at_25, r.random_recall_at_25);
  // (b) More exploration, more new items in the lists: none of them otherwise reach a top 25
  // among items with interactions, and all 25 slots at weight 1.
  ASSERT_EQ(r.catalogue.size(), 3u);
  EXPECT_LT(r.catalogue[0].new_item_share, r.catalogue[1].new_item_share);
  EXPECT_LT(r.catalogue[1].new_item_share, r.catalogue[2].new_item_share);
  EXPECT_NEAR(r.catalogue[2].new_item_share, 1.0, 1e-9);
  EXPECT_NEAR(r.catalogue[1].new_item_share, 8.0 / 25, 0.05);
  EXPECT_GT(r.catalogue[1].recall_at_25, r.catalogue[0].recall_at_25);
  // Similar items of a cold item share its community at least twice as often as random items.
  EXPECT_EQ(r.genre_field, "COMMUNITY");
  EXPECT_GE(r.similar_genre_share, 2 * r.random_genre_share);
  // The mapping leaves the usual split's NDCG within 2%.
  EXPECT_NEAR(r.usual_ndcg_at_10_metadata, r.usual_ndcg_at_10_plain,
              0.02 * r.usual_ndcg_at_10_plain);
  EXPECT_NE(r.to_text().find("exploration"), std::string::npos);
  EXPECT_NE(r.to_json().find("\"newItemShare\""), std::string::npos);
}

TEST(ColdItems, RefusesWhatItCannotEvaluate) {
  const DatasetGroup no_items = test::sample_group(true, false);
  EXPECT_THROW(evaluate_cold_items(no_items, {"s", "user-personalization", "{}", {}}), Error);
  const DatasetGroup g = test::sample_group();
  EXPECT_THROW(evaluate_cold_items(g, {"s", "popularity-count", "{}", {}}), Error);
  ColdItemOptions o;
  o.cold_share = 1.5;
  EXPECT_THROW(evaluate_cold_items(g, {"s", "user-personalization", "{}", {}}, o), Error);
  o.cold_share = 0.1;
  o.genre_field = "TITLE";  // not categorical
  EXPECT_THROW(evaluate_cold_items(g, {"s", "user-personalization", "{}", {}}, o), Error);
}

TEST(ColdItems, AModelThatMapsNoMetadataIsRefusedNamingWhatIsNeeded) {
  const DatasetGroup g = test::sample_group();
  for (const char* params : {R"({"item_metadata":false})", "{}"}) {
    const std::string recipe = params[1] == '"' ? "user-personalization" : "popularity-count";
    try {
      evaluate_cold_items(g, {"s", recipe, params, {}});
      ADD_FAILURE() << recipe << " was evaluated";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
      const std::string what = e.what();
      EXPECT_NE(what.find("maps item metadata"), std::string::npos) << what;
      EXPECT_NE(what.find("recipe " + recipe), std::string::npos) << what;
    }
  }
}

// A recipe outside the library that implements Model::item_vectors() is evaluated as
// user-personalization is: its vectors rank the held-out items, and exploration shows them.
TEST(ColdItems, ARecipeWithItemVectorsIsEvaluatedThroughTheHook) {
  test::add_community_recipe();
  const DatasetGroup g = test::sample_group();
  ColdItemOptions o;
  o.genre_field = "COMMUNITY";
  const ColdItemReport r = evaluate_cold_items(g, {"s", "community-vectors", "{}", {}}, o);
  EXPECT_EQ(r.cold_items, 120u);
  // The users' community taste ranks the held-out items better than chance.
  EXPECT_GE(r.cold_ndcg_at_10, 1.5 * r.random_ndcg_at_10);
  ASSERT_EQ(r.catalogue.size(), 3u);
  EXPECT_LT(r.catalogue[1].new_item_share, r.catalogue[2].new_item_share);
  EXPECT_NEAR(r.catalogue[2].new_item_share, 1.0, 1e-9);
  // Without item features the recipe learns nothing: every score is zero.
  EXPECT_GT(r.usual_ndcg_at_10_metadata, r.usual_ndcg_at_10_plain);
}

}  // namespace
}  // namespace tailor
