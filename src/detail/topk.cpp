// SPDX-License-Identifier: MIT
#include "detail/topk.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "detail/topk_simd.hpp"
#include "tailor/detail/bits.hpp"

namespace tailor::detail {

namespace {

// Calls visit(i) for each i in [0, n) with scores[i] > threshold() and first + i in `allowed`
// (when given), in increasing order. threshold() is read before each group of scores and may
// rise as visit runs, so visit must compare again. A group of kTopKGroup (64) items starting at a
// multiple of 64 is one word of the bitmap: its candidates that the filter rejects are dropped
// with one AND, so they cost nothing even when they outscore everything allowed.
template <class Threshold, class Visit>
void for_each_above(const float* scores, std::size_t n, Index first, const Bitmap* allowed,
                    Threshold threshold, Visit visit) {
  static_assert(kTopKGroup == 64, "a group is one bitmap word");
  const bool word_aligned = allowed && first % 64 == 0;
  auto allowed_item = [&](std::size_t i) {
    const Index item = first + static_cast<Index>(i);
    return !allowed || (item < allowed->size() && allowed->test(item));
  };
  // The comparisons run in the kernels of the target in force (topk_simd_kernels.inc).
  const TopKSimd& kernels = topk_simd();
  const std::size_t groups_end = n - n % kTopKGroup;
  std::size_t i = 0;
  for (;; i += kTopKGroup) {
    const float t = threshold();
    i = kernels.next_group_above(scores, i, groups_end, t);
    if (i == groups_end) break;
    std::uint64_t hits = kernels.group_mask(scores + i, t);
    if (word_aligned) {
      const std::size_t word = (static_cast<std::size_t>(first) + i) / 64;
      hits &= word < allowed->words().size() ? allowed->words()[word] : 0;
    }
    for (; hits != 0; hits &= hits - 1) {
      const std::size_t at = i + static_cast<std::size_t>(detail::countr_zero64(hits));
      if (word_aligned || allowed_item(at)) visit(at);
    }
  }
  for (; i < n; ++i) {
    if (scores[i] > threshold() && allowed_item(i)) visit(i);
  }
}

}  // namespace

void TopK::push_all(const float* scores, std::size_t n, Index first, const Bitmap* allowed) {
  if (k_ == 0) return;
  // Below the current k-th best nothing can enter (on equal scores the earlier index wins, and
  // indices only grow). So a group of scores none of which beats it is skipped with one vector
  // comparison, and in the rare group that has candidates only those are looked at.
  float threshold = full() ? worst() : -std::numeric_limits<float>::infinity();
  for_each_above(
      scores, n, first, allowed, [&] { return threshold; },
      [&](std::size_t i) {
        if (!(scores[i] > threshold)) return;  // the threshold may have risen within the group
        push(first + static_cast<Index>(i), scores[i]);
        if (full()) threshold = worst();
      });
}

void top_k(const float* scores, std::size_t n, std::size_t k, const Bitmap* allowed,
           std::vector<ScoredItem>& out) {
  TopK heap(k);
  heap.push_all(scores, n, 0, allowed);
  heap.take_sorted(out);
}

void items_at_least(const float* scores, std::size_t n, float threshold, const Bitmap* allowed,
                    std::vector<Index>& out) {
  out.clear();
  // "At least t" is "above the float just below t".
  const float below = std::nextafter(threshold, -std::numeric_limits<float>::infinity());
  for_each_above(
      scores, n, 0, allowed, [&] { return below; },
      [&](std::size_t i) { out.push_back(static_cast<Index>(i)); });
}

}  // namespace tailor::detail
