// SPDX-License-Identifier: MIT
// Candidate selection.
#include "serving/candidates.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <unordered_map>

#include "detail/topk.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

void top_k_within(const UserScorer& scorer, const float* approximate, std::size_t n,
                  const ScoreBound& bound, std::size_t count, const Bitmap* allowed,
                  Normaliser* normaliser, std::vector<ScoredItem>& top) {
  // Usually the best few more than `count` approximate scores hold every item that could be.
  const std::size_t wider = count + 4;
  top_k(approximate, n, wider, allowed, top);
  std::vector<Index> candidates;
  if (top.size() < wider) {
    for (const ScoredItem& s : top) candidates.push_back(s.item);  // every allowed item
  } else {
    // `count` of these items score at least their lower bounds, so the exact count-th best
    // score is at least t, the count-th best lower bound; an item can be among the best only if
    // its upper bound reaches t.
    std::vector<double> lower(top.size());
    for (std::size_t j = 0; j < top.size(); ++j) {
      lower[j] = static_cast<double>(top[j].score) - static_cast<double>(bound.of(top[j].item));
    }
    std::nth_element(lower.begin(), lower.begin() + static_cast<std::ptrdiff_t>(count - 1),
                     lower.end(), std::greater<double>());
    const double t = lower[count - 1];
    auto reaches = [&](Index i) {
      return static_cast<double>(approximate[i]) + static_cast<double>(bound.of(i)) >= t;
    };
    if (static_cast<double>(top.back().score) + static_cast<double>(bound.max()) < t) {
      // Nothing outside these items reaches t.
      for (const ScoredItem& s : top) {
        if (reaches(s.item)) candidates.push_back(s.item);
      }
    } else {
      // A second pass: the items whose approximate score is within the largest bound of t.
      const double floor = t - static_cast<double>(bound.max());
      float threshold = static_cast<float>(floor);
      if (static_cast<double>(threshold) > floor) {
        threshold = std::nextafter(threshold, -std::numeric_limits<float>::infinity());
      }
      std::vector<Index> near;
      items_at_least(approximate, n, threshold, allowed, near);
      for (Index i : near) {
        if (reaches(i)) candidates.push_back(i);
      }
    }
  }
  std::vector<float> exact;
  if (candidates.size() > 4 * count + 64) {
    // Near-ties over a large part of the catalog: scoring it all exactly is cheaper.
    scorer.score_all(exact);
    TAILOR_THROW_IF(exact.size() != n, ErrorCode::Internal, "a model's scorer gave ", exact.size(),
                    " exact scores for ", n, " approximate ones");
    if (normaliser) normaliser->set_all_exact(exact);
    for (std::size_t i = 0; i < n; ++i) {
      if (approximate[i] == -std::numeric_limits<float>::infinity()) exact[i] = approximate[i];
    }
    top_k(exact.data(), n, count, allowed, top);
    return;
  }
  scorer.score(candidates, exact);
  top.resize(candidates.size());
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    top[j] = {candidates[j], exact[j]};
    if (normaliser) normaliser->set_exact(candidates[j], approximate[candidates[j]], exact[j]);
  }
  const std::size_t keep = std::min(count, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                    better);
  top.resize(keep);
}

std::vector<ScoredItem> co_occurring(const DatasetGroup& g, Index item, std::size_t k) {
  std::unordered_map<Index, float> counts;
  std::vector<Index> users;
  const Interactions& in = g.interactions();
  for (Index u = 0; u < g.user_ids().size(); ++u) {
    for (std::uint32_t r : g.interaction_rows_of(u)) {
      if (in.items()[r] == item) {
        users.push_back(u);
        break;
      }
    }
  }
  for (Index u : users) {
    std::vector<Index> items;
    for (std::uint32_t r : g.interaction_rows_of(u)) items.push_back(in.items()[r]);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    for (Index i : items) {
      if (i != item) counts[i] += 1.0f;
    }
  }
  TopK top(k);
  for (const auto& [i, c] : counts) top.push(i, c);
  std::vector<ScoredItem> out;
  top.take_sorted(out);
  return out;
}

}  // namespace tailor::detail
