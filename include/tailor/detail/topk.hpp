// SPDX-License-Identifier: MIT
// Partial selection of the best K scores, without sorting the catalog (internal).
#pragma once

#include <algorithm>
#include <limits>
#include <cstddef>
#include <vector>

#include "tailor/bitmap.hpp"
#include "tailor/export.hpp"
#include "tailor/types.hpp"

namespace tailor {

namespace detail {

/// Ranking order: higher score first, ties broken by lower index (deterministic).
inline bool better(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

/// Keeps the best K items seen so far in a min-heap on `better`, so each new candidate costs one
/// comparison against the current worst once the heap is full.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k); }
  void push(Index item, float score) {
    if (k_ == 0) return;
    ScoredItem s{item, score};
    if (heap_.size() < k_) {
      heap_.push_back(s);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(s, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = s;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }
  bool full() const { return k_ > 0 && heap_.size() == k_; }
  /// The worst score kept (valid when full()).
  float worst() const { return heap_.front().score; }
  /// The items, best first; the heap is emptied.
  void take_sorted(std::vector<ScoredItem>& out) {
    std::sort_heap(heap_.begin(), heap_.end(), better);
    out.assign(heap_.begin(), heap_.end());
    heap_.clear();
  }

 private:
  std::size_t k_;
  std::vector<ScoredItem> heap_;
};

/// The best k of scores[0, n), skipping items not in `allowed` (when given) and items whose score
/// is -infinity (excluded). Result best first, ties by lower index.
TAILOR_EXPORT void top_k(const float* scores, std::size_t n, std::size_t k, const Bitmap* allowed,
                         std::vector<ScoredItem>& out);

}  // namespace detail
}  // namespace tailor
