// SPDX-License-Identifier: MIT
// Explanations of ALS scores (Hu, Koren & Volinsky, "Collaborative Filtering for Implicit
// Feedback Datasets", ICDM 2008, §5): a user solved from their history has
// x = W Σ_j c_j y_j with W = (YᵀY + Yᵀ(C − I)Y + λI)⁻¹, so item i's score y_iᵀx is the sum over
// the history of s_ij c_j, s_ij = y_iᵀ W y_j: how much each past item, through the user's own
// weighted similarity, pushes item i up.
#include "recipes/als/als_explain.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <utility>

namespace tailor::detail {

void als_explain(const FactorMatrix& Y, const Eigen::MatrixXf& gram, float alpha,
                 const UserQuery& query, Span<Index> items, std::size_t k,
                 std::vector<std::vector<ScoredItem>>& out) {
  out.assign(items.size(), {});
  // Repeated history items count once with their weights summed, as in fold-in and training.
  std::vector<std::pair<Index, float>> entries;
  for (std::size_t e = 0; e < query.history.size(); ++e) {
    if (query.history[e] < Y.rows())
      entries.emplace_back(query.history[e], query.weights.empty() ? 1.0f : query.weights[e]);
  }
  std::sort(entries.begin(), entries.end());
  std::vector<std::pair<Index, float>> history;  // item, confidence
  for (const auto& [item, w] : entries) {
    if (!history.empty() && history.back().first == item) {
      history.back().second += w;
    } else {
      history.emplace_back(item, w);
    }
  }
  if (history.empty() || k == 0) return;
  Eigen::MatrixXf A = gram;
  for (auto& [item, value] : history) {
    value = 1.0f + alpha * value;  // the confidence c_j
    A.selfadjointView<Eigen::Lower>().rankUpdate(Y.row(item).transpose(), value - 1.0f);
  }
  const Eigen::LLT<Eigen::MatrixXf, Eigen::Lower> llt(A.selfadjointView<Eigen::Lower>());
  for (std::size_t n = 0; n < items.size(); ++n) {
    if (items[n] >= Y.rows()) continue;
    // One solve per explained item: W y_i, then s_ij = y_jᵀ (W y_i) (W is symmetric).
    const Eigen::VectorXf w = llt.solve(Y.row(items[n]).transpose());
    std::vector<ScoredItem>& terms = out[n];
    for (const auto& [item, confidence] : history) {
      terms.push_back({item, confidence * Y.row(item).dot(w)});
    }
    std::sort(terms.begin(), terms.end(), [](const ScoredItem& a, const ScoredItem& b) {
      return a.score != b.score ? a.score > b.score : a.item < b.item;
    });
    if (terms.size() > k) terms.resize(k);
  }
}

}  // namespace tailor::detail
