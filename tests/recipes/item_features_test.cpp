// SPDX-License-Identifier: MIT
// Item features (tokeniser, stop words, buckets, multi-valued fields, TF-IDF) and the
// attribute-to-feature mapping against a dense ridge solve.
#include "tailor/recipes/item_features.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "common/schemas.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

DatasetGroup items_group(const std::string& items_csv) {
  DatasetGroup g(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions), std::nullopt,
                 Schema::parse(test::kItemsSchema, DatasetKind::Items));
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Items, items_csv).ok());
  return g;
}

TEST(Tokenize, LowerCasesSplitsAndDropsStopWordsAndSingleLetters) {
  EXPECT_EQ(tokenize("The C++ Guide to Modern-CPP, and a Q&A!"),
            (std::vector<std::string>{"guide", "modern", "cpp"}));
  EXPECT_EQ(tokenize(""), std::vector<std::string>{});
  EXPECT_EQ(tokenize("the of and"), std::vector<std::string>{});
  EXPECT_EQ(tokenize("Café 2026"), (std::vector<std::string>{"café", "2026"}));
}

TEST(Tokenize, StopWords) {
  EXPECT_TRUE(is_stop_word("the"));
  EXPECT_TRUE(is_stop_word("with"));
  EXPECT_FALSE(is_stop_word("security"));
}

const char* kItems =
    "ITEM_ID,TAGS,PRICE,PREMIUM,TITLE,CREATION_TIMESTAMP\n"
    "a,cpp|security,1,true,Security in C++ code,100\n"
    "b,cpp,2,false,C++ templates,200\n"
    "c,security,3,,Security review,300\n"
    "d,sales,4,,Sales forecast review,400\n"
    "e,sales|cpp,,,,500\n";

TEST(ItemFeaturizer, CategoricalMultiValuedTextualAndBuckets) {
  DatasetGroup g = items_group(kItems);
  ItemFeatureOptions o;
  o.min_items = 1;
  o.numeric_buckets = 2;
  const ItemFeaturizer z = ItemFeaturizer::fit(*g.items(), g.item_ids().size(), o);
  // A multi-valued value is one feature per value; words of the title; the price's bucket;
  // booleans and the creation time are not features.
  EXPECT_NE(z.find("TAGS=cpp"), kNoIndex);
  EXPECT_NE(z.find("TAGS=security"), kNoIndex);
  EXPECT_EQ(z.find("TAGS=cpp|security"), kNoIndex);
  EXPECT_NE(z.find("TITLE:security"), kNoIndex);
  EXPECT_NE(z.find("TITLE:templates"), kNoIndex);
  EXPECT_EQ(z.find("TITLE:in"), kNoIndex);  // a stop word
  EXPECT_NE(z.find("PRICE#0"), kNoIndex);
  EXPECT_NE(z.find("PRICE#1"), kNoIndex);
  for (std::size_t f = 0; f < z.size(); ++f) {
    EXPECT_EQ(z.name(f).find("PREMIUM"), std::string::npos) << z.name(f);
    EXPECT_EQ(z.name(f).find("CREATION_TIMESTAMP"), std::string::npos) << z.name(f);
  }
  const Index a = g.item_ids().find("a");
  const SparseFeatures fa = z.features(*g.items(), a);
  // TAGS=cpp, TAGS=security, TITLE:security, TITLE:code, TITLE:c?? (one letter: dropped), PRICE.
  std::vector<std::string> names;
  for (Index f : fa.indices) names.push_back(z.name(f));
  EXPECT_EQ(names, (std::vector<std::string>{"PRICE#0", "TAGS=cpp", "TAGS=security", "TITLE:code",
                                             "TITLE:security"}));
  EXPECT_NEAR(fa.dot(fa), 1.0f, 1e-5f);  // L2-normalised
  // Prices 1, 2 fall in the lower bucket, 3 and 4 in the upper one (the median bound is 3).
  const SparseFeatures fd = z.features(*g.items(), g.item_ids().find("d"));
  EXPECT_NE(std::find(fd.indices.begin(), fd.indices.end(), z.find("PRICE#1")), fd.indices.end());
  // IDF: the rarer "code" weighs more in a than the shared "security".
  const auto weight = [&](const SparseFeatures& s, const std::string& n) {
    for (std::size_t k = 0; k < s.indices.size(); ++k)
      if (s.indices[k] == z.find(n)) return s.values[k];
    return 0.0f;
  };
  EXPECT_GT(weight(fa, "TITLE:code"), weight(fa, "TITLE:security"));
  // An item without a row has no features; similar items are closer than unrelated ones.
  EXPECT_TRUE(z.features(*g.items(), 99).empty());
  const SparseFeatures fb = z.features(*g.items(), g.item_ids().find("b"));
  EXPECT_GT(fa.dot(fb), fa.dot(fd));
}

TEST(ItemFeaturizer, VocabularyCappedByDocumentFrequencyAndRareFeaturesDropped) {
  DatasetGroup g = items_group(kItems);
  ItemFeatureOptions o;
  o.min_items = 2;
  const ItemFeaturizer z = ItemFeaturizer::fit(*g.items(), g.item_ids().size(), o);
  EXPECT_NE(z.find("TAGS=cpp"), kNoIndex);         // on 3 items
  EXPECT_EQ(z.find("TITLE:templates"), kNoIndex);  // on 1 item
  o.max_features = 1;
  o.min_items = 1;
  const ItemFeaturizer one = ItemFeaturizer::fit(*g.items(), g.item_ids().size(), o);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one.name(0), "TAGS=cpp");  // the most frequent
  o.numeric_buckets = 0;
  EXPECT_THROW(ItemFeaturizer::fit(*g.items(), g.item_ids().size(), o), Error);
}

TEST(ItemFeaturizer, SavesAndLoads) {
  DatasetGroup g = items_group(kItems);
  ItemFeatureOptions o;
  o.min_items = 1;
  const ItemFeaturizer z = ItemFeaturizer::fit(*g.items(), g.item_ids().size(), o);
  ModelArchive archive;
  z.save(archive, "m.");
  const ItemFeaturizer back = ItemFeaturizer::load(archive, "m.");
  ASSERT_EQ(back.size(), z.size());
  for (Index i = 0; i < g.item_ids().size(); ++i) {
    const SparseFeatures x = z.features(*g.items(), i), y = back.features(*g.items(), i);
    EXPECT_EQ(x.indices, y.indices);
    EXPECT_EQ(x.values, y.values);
  }
  archive.put_floats("m.idf", {1.0f});
  EXPECT_THROW(ItemFeaturizer::load(archive, "m."), Error);
  archive.put_text("m.fields", "Xbad\n");
  EXPECT_THROW(ItemFeaturizer::load(archive, "m."), Error);
}

// Bucket bounds are item values; values that float cannot hold exactly (0.7, large counts) must
// land in the same bucket after the featurizer is saved and loaded as before.
TEST(ItemFeaturizer, BucketsOfValuesOnABoundSurviveSaveAndLoad) {
  DatasetGroup g = items_group(
      "ITEM_ID,TAGS,PRICE,PREMIUM,TITLE,CREATION_TIMESTAMP\n"
      "a,,0.7,,,\n"
      "b,,0.7,,,\n"
      "c,,1700000001,,,\n"
      "d,,1700000001,,,\n"
      "e,,3000000001,,,\n"
      "f,,3000000001,,,\n");
  ItemFeatureOptions o;
  o.min_items = 1;
  o.numeric_buckets = 3;
  const ItemFeaturizer z = ItemFeaturizer::fit(*g.items(), g.item_ids().size(), o);
  ModelArchive archive;
  z.save(archive, "m.");
  const ItemFeaturizer back = ItemFeaturizer::load(archive, "m.");
  for (Index i = 0; i < g.item_ids().size(); ++i) {
    const SparseFeatures x = z.features(*g.items(), i), y = back.features(*g.items(), i);
    ASSERT_EQ(x.indices.size(), 1u);
    EXPECT_EQ(back.name(y.indices.at(0)), z.name(x.indices[0])) << "item " << i;
  }
  // An archive of the earlier layout (float bounds) still loads.
  ModelArchive old;
  old.put_text("m.fields", "NPRICE\n");
  old.put_floats("m.bounds", {0.5f, 2.0f});
  old.put_integers("m.bound_counts", {2});
  old.put_text("m.names", "PRICE#0\nPRICE#1\nPRICE#2\n");
  old.put_floats("m.idf", {1.0f, 1.0f, 1.0f});
  const ItemFeaturizer earlier = ItemFeaturizer::load(old, "m.");
  const SparseFeatures a = earlier.features(*g.items(), g.item_ids().find("a"));
  ASSERT_EQ(a.indices.size(), 1u);
  EXPECT_EQ(earlier.name(a.indices[0]), "PRICE#1");  // 0.7: above 0.5, not above 2
}

TEST(AttributeMapping, EqualsADenseRidgeSolve) {
  // Random sparse features and factors; every other item is fitted on.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  const int items = 40, features = 6, factors = 4;
  std::vector<SparseFeatures> rows(items);
  Eigen::MatrixXd dense_f = Eigen::MatrixXd::Zero(items, features);
  for (int i = 0; i < items; ++i) {
    for (int f = 0; f < features; ++f) {
      if ((i + f) % 3 == 0 || f == i % features) {
        rows[i].indices.push_back(static_cast<Index>(f));
        rows[i].values.push_back(u(rng));
        dense_f(i, f) = rows[i].values.back();
      }
    }
  }
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> y(items, factors);
  for (int i = 0; i < items; ++i)
    for (int c = 0; c < factors; ++c) y(i, c) = u(rng);
  std::vector<char> fit(items, 0);
  for (int i = 0; i < items; i += 2) fit[i] = 1;

  // The featurizer only names the features here: build one with `features` entries.
  DatasetGroup g = items_group(
      "ITEM_ID,TAGS,PRICE,PREMIUM,TITLE,CREATION_TIMESTAMP\n"
      "p,t0|t1|t2|t3|t4|t5,,,,\nq,t0|t1|t2|t3|t4|t5,,,,\n");
  const ItemFeaturizer z = ItemFeaturizer::fit(*g.items(), g.item_ids().size());
  ASSERT_EQ(z.size(), static_cast<std::size_t>(features));
  const float lambda = 0.5f;
  const AttributeMapping m = AttributeMapping::fit(z, rows, y, fit, lambda);

  // The slow way: stack the fitted rows and solve (FᵀF + λI) W = FᵀY with a QR decomposition.
  Eigen::MatrixXd f_fit(items / 2, features), y_fit(items / 2, factors);
  for (int i = 0, r = 0; i < items; ++i) {
    if (!fit[i]) continue;
    f_fit.row(r) = dense_f.row(i);
    y_fit.row(r++) = y.row(i).cast<double>();
  }
  const Eigen::MatrixXd a =
      f_fit.transpose() * f_fit + lambda * Eigen::MatrixXd::Identity(features, features);
  const Eigen::MatrixXd w = a.colPivHouseholderQr().solve(f_fit.transpose() * y_fit);
  ASSERT_EQ(m.weights.rows(), features);
  ASSERT_EQ(m.weights.cols(), factors);
  EXPECT_LT((m.weights.cast<double>() - w).cwiseAbs().maxCoeff(), 1e-4);
  // project() is Wᵀf.
  const Eigen::VectorXf p = m.project(rows[1]);
  const Eigen::VectorXd expected = w.transpose() * dense_f.row(1).transpose();
  EXPECT_LT((p.cast<double>() - expected).cwiseAbs().maxCoeff(), 1e-4);

  ModelArchive archive;
  m.save(archive, "meta.");
  const AttributeMapping back = AttributeMapping::load(archive, "meta.", factors);
  EXPECT_EQ(back.weights, m.weights);
  EXPECT_THROW(AttributeMapping::load(archive, "meta.", factors + 1), Error);
  EXPECT_THROW(AttributeMapping::fit(z, rows, y, fit, -1.0f), Error);
}

}  // namespace
}  // namespace tailor
