// SPDX-License-Identifier: MIT
// Random implicit feedback for recipe tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tailor/recipes/als.hpp"
#include "tailor/recipes/training_data.hpp"

namespace tailor::test {

/// Random implicit feedback of weight 1, popular (low-index) items more often, timestamps spread
/// over a day.
inline TrainingData random_data(Index users, Index items, double density, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<Index> us, is;
  std::vector<std::int64_t> ts;
  std::vector<float> ws;
  for (Index u = 0; u < users; ++u) {
    for (Index i = 0; i < items; ++i) {
      if (unit(rng) < density * 3.0 / (1.0 + i * 0.1)) {
        us.push_back(u);
        is.push_back(i);
        ts.push_back(static_cast<std::int64_t>(rng() % 86400));
        ws.push_back(1);
      }
    }
  }
  return TrainingData::build(users, items, us, is, ts, ws);
}

/// A rows × f factor matrix of N(0, 0.3²) draws from `seed`.
inline FactorMatrix random_matrix(Index rows, int f, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 0.3f);
  FactorMatrix m(rows, f);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = normal(rng);
  }
  return m;
}

/// γ_f = f·u / (1 − f·u), u = 2^−24: a float32 sum of f products, in any order, with or without
/// FMA, is within γ_f · Σ|aₖbₖ| of the exact one.
inline double gamma(int f) {
  const double u = std::ldexp(1.0, -24) * f;
  return u / (1 - u);
}

}  // namespace tailor::test
