// SPDX-License-Identifier: MIT
// Partial selection of the best K scores, without sorting the catalog (internal).
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "tailor/bitmap.hpp"
#include "tailor/types.hpp"

namespace tailor {

namespace detail {

/// Ranking order: higher score first, ties broken by lower index (deterministic). An object, not
/// a function, so that the heap and sort algorithms given it inline the comparison instead of
/// calling through a pointer.
struct Better {
  bool operator()(const ScoredItem& a, const ScoredItem& b) const {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  }
};
inline constexpr Better better{};

/// Keeps the best K items seen so far in a min-heap on `better`, so each new candidate costs one
/// comparison against the current worst once the heap is full.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k); }
  void push(Index item, float score) {
    if (k_ == 0) return;
    const ScoredItem s{item, score};
    if (heap_.size() < k_) {
      heap_.push_back(s);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(s, heap_.front())) {
      replace_worst(s);
    }
  }
  /// Pushes items first, first + 1, ... with scores[0, n), skipping items not in `allowed` (when
  /// given) and scores of -infinity. Every item must come after all items pushed before (as when
  /// a catalog is pushed chunk by chunk): then nothing at or below the current worst can enter,
  /// and groups of scores are rejected with a few vector instructions.
  void push_all(const float* scores, std::size_t n, Index first, const Bitmap* allowed);
  bool full() const { return k_ > 0 && heap_.size() == k_; }
  /// The worst score kept (valid when full()).
  float worst() const { return heap_.front().score; }
  /// The items kept, in no particular order.
  const std::vector<ScoredItem>& items() const { return heap_; }
  /// The items, best first; the heap is emptied.
  void take_sorted(std::vector<ScoredItem>& out) {
    std::sort_heap(heap_.begin(), heap_.end(), better);
    out.assign(heap_.begin(), heap_.end());
    heap_.clear();
  }

 private:
  // The worst item leaves and s takes its place: one sift down (pop_heap and push_heap would
  // walk the heap twice).
  void replace_worst(const ScoredItem& s) {
    const std::size_t n = heap_.size();
    std::size_t hole = 0;
    for (;;) {
      std::size_t child = 2 * hole + 1;
      if (child >= n) break;
      // The worse of the two children rises (the heap's front is its worst item).
      if (child + 1 < n && better(heap_[child], heap_[child + 1])) ++child;
      if (!better(s, heap_[child])) break;
      heap_[hole] = heap_[child];
      hole = child;
    }
    heap_[hole] = s;
  }

  std::size_t k_;
  std::vector<ScoredItem> heap_;
};

/// The best k of scores[0, n), skipping items not in `allowed` (when given) and items whose score
/// is -infinity (excluded). Result best first, ties by lower index.
void top_k(const float* scores, std::size_t n, std::size_t k, const Bitmap* allowed,
           std::vector<ScoredItem>& out);

/// The items i of scores[0, n) with scores[i] ≥ threshold and in `allowed` (when given), in
/// increasing order (-infinity never qualifies for a finite threshold).
void items_at_least(const float* scores, std::size_t n, float threshold, const Bitmap* allowed,
                    std::vector<Index>& out);

}  // namespace detail
}  // namespace tailor
