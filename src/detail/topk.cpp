// SPDX-License-Identifier: MIT
#include "detail/topk.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "tailor/detail/bits.hpp"

namespace tailor::detail {

namespace {

// Sixteen scores as one vector value (GCC/Clang vector extension), so that the comparisons
// below are single vector instructions whatever the surrounding code makes the optimiser do.
constexpr std::size_t kLanes = 16;
constexpr std::size_t kGroup = 4 * kLanes;  // scores skipped at once
using Lanes = float __attribute__((vector_size(kLanes * sizeof(float))));
using LaneHits = std::int32_t __attribute__((vector_size(kLanes * sizeof(float))));

// Whether any of scores[0, kGroup) is above the threshold.
bool any_above(const float* scores, float threshold) {
  Lanes top;
  std::memcpy(&top, scores, sizeof top);
  for (std::size_t i = kLanes; i < kGroup; i += kLanes) {
    Lanes v;
    std::memcpy(&v, scores + i, sizeof v);
    top = top > v ? top : v;
  }
  // Fold the maximum in halves down to four lanes: a horizontal reduction the optimiser keeps in
  // vector registers (a loop over all lanes it may turn into sixteen extractions).
  using Half = float __attribute__((vector_size(kLanes / 2 * sizeof(float))));
  using Quarter = float __attribute__((vector_size(kLanes / 4 * sizeof(float))));
  Half lo, hi;
  std::memcpy(&lo, &top, sizeof lo);
  std::memcpy(&hi, reinterpret_cast<const char*>(&top) + sizeof lo, sizeof hi);
  lo = lo > hi ? lo : hi;
  Quarter a, b;
  std::memcpy(&a, &lo, sizeof a);
  std::memcpy(&b, reinterpret_cast<const char*>(&lo) + sizeof a, sizeof b);
  a = a > b ? a : b;
  return a[0] > threshold || a[1] > threshold || a[2] > threshold || a[3] > threshold;
}

// Bit j set when scores[j] is above the threshold, for j < kLanes.
std::uint32_t above_mask(const float* scores, float threshold) {
  Lanes v;
  std::memcpy(&v, scores, sizeof v);
  const LaneHits hits = v > threshold;
  std::uint32_t mask = 0;
  for (std::size_t j = 0; j < kLanes; ++j) mask |= static_cast<std::uint32_t>(hits[j] & 1) << j;
  return mask;
}

// Calls visit(i) for each i in [0, n) with scores[i] > threshold() and first + i in `allowed`
// (when given), in increasing order. threshold() is read before each group of scores and may
// rise as visit runs, so visit must compare again. A group of kGroup (64) items starting at a
// multiple of 64 is one word of the bitmap: its candidates that the filter rejects are dropped
// with one AND, so they cost nothing even when they outscore everything allowed.
template <class Threshold, class Visit>
void for_each_above(const float* scores, std::size_t n, Index first, const Bitmap* allowed,
                    Threshold threshold, Visit visit) {
  static_assert(kGroup == 64, "a group is one bitmap word");
  const bool word_aligned = allowed && first % 64 == 0;
  auto allowed_item = [&](std::size_t i) {
    const Index item = first + static_cast<Index>(i);
    return !allowed || (item < allowed->size() && allowed->test(item));
  };
  std::size_t i = 0;
  for (; i + kGroup <= n; i += kGroup) {
    const float t = threshold();
    if (!any_above(scores + i, t)) continue;
    std::uint64_t hits = 0;
    for (std::size_t j = 0; j < kGroup; j += kLanes) {
      hits |= std::uint64_t{above_mask(scores + i + j, t)} << j;
    }
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
