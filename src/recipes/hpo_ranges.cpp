// SPDX-License-Identifier: MIT
// The hyperparameter ranges a search tries by default, per built-in recipe: wide enough to
// hold what suits the public datasets (an ALS confidence near 1 on MovieLens, near 40 on
// check-ins), on a logarithmic scale where the good values span decades.
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/item_knn.hpp"
#include "tailor/recipes/popularity.hpp"

namespace tailor {

std::string AlsRecipe::hpo_ranges_json() const {
  return R"({"integerHyperParameterRanges":[
    {"name":"factors","minValue":16,"maxValue":256,"scalingType":"Logarithmic"},
    {"name":"iterations","minValue":5,"maxValue":30,"scalingType":"Linear"}],
  "continuousHyperParameterRanges":[
    {"name":"regularization","minValue":0.001,"maxValue":10,"scalingType":"Logarithmic"},
    {"name":"alpha","minValue":0.01,"maxValue":100,"scalingType":"Logarithmic"}]})";
}

std::string ItemKnnRecipe::hpo_ranges_json() const {
  return R"({"integerHyperParameterRanges":[
    {"name":"neighbors","minValue":10,"maxValue":500,"scalingType":"Logarithmic"},
    {"name":"min_cointeraction_count","minValue":0,"maxValue":10,"scalingType":"Linear"}],
  "continuousHyperParameterRanges":[
    {"name":"popularity_discount_factor","minValue":0,"maxValue":1,"scalingType":"Linear"}],
  "categoricalHyperParameterRanges":[
    {"name":"similarity","values":["cosine","bm25","tfidf"]}]})";
}

std::string PopularityRecipe::hpo_ranges_json() const {
  return R"({"continuousHyperParameterRanges":[
    {"name":"half_life_days","minValue":0.5,"maxValue":1000,"scalingType":"Logarithmic"}]})";
}

}  // namespace tailor
