// SPDX-License-Identifier: MIT
// Partial selection of the best K scores, without sorting the catalog (internal).
#pragma once

#include <algorithm>
#include <limits>
#include <cstddef>
#include <vector>

#include "tailor/bitmap.hpp"
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
inline void top_k(const float* scores, std::size_t n, std::size_t k, const Bitmap* allowed,
                  std::vector<ScoredItem>& out) {
  TopK heap(k);
  // Below the current k-th best nothing can enter (on equal scores the earlier index wins, and
  // indices only grow), so one comparison rejects most items, and a block whose maximum does
  // not beat the threshold is skipped whole (the maximum is a vectorised reduction).
  float threshold = -std::numeric_limits<float>::infinity();
  constexpr std::size_t kBlock = 64;
  for (std::size_t begin = 0; begin < n; begin += kBlock) {
    const std::size_t end = std::min(n, begin + kBlock);
    float block_max = -std::numeric_limits<float>::infinity();
    for (std::size_t i = begin; i < end; ++i) block_max = std::max(block_max, scores[i]);
    if (!(block_max > threshold)) continue;
    for (std::size_t i = begin; i < end; ++i) {
      const float s = scores[i];
      if (!(s > threshold)) continue;
      if (allowed && (i >= allowed->size() || !allowed->test(i))) continue;
      heap.push(static_cast<Index>(i), s);
      if (heap.full()) threshold = heap.worst();
    }
  }
  heap.take_sorted(out);
}

}  // namespace detail
}  // namespace tailor
