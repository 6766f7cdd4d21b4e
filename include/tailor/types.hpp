// SPDX-License-Identifier: MIT
// Small vocabulary types shared by every module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace tailor {

/// Dense index of a user or item, assigned in order of first appearance by an IdMap.
using Index = std::uint32_t;

/// The value an Index takes for "no such id".
inline constexpr Index kNoIndex = std::numeric_limits<Index>::max();

/// An item index with its score.
struct ScoredItem {
  Index item = kNoIndex;
  float score = 0;
  bool operator==(const ScoredItem& o) const { return item == o.item && score == o.score; }
};

/// Per-call execution settings: never process-global.
struct ExecutionOptions {
  /// Threads for parallel kernels; 0 means all hardware threads, and a larger count than the
  /// machine's cores is capped to the core count.
  int num_threads = 0;
  /// Seed for every random choice made by the call.
  std::uint64_t seed = 42;
};

}  // namespace tailor

namespace tailor {

/// A read-only view of contiguous elements (std::span arrives with C++20).
template <typename T>
class Span {
 public:
  constexpr Span() = default;
  constexpr Span(const T* data, std::size_t size) : data_(data), size_(size) {}
  template <typename Container>
  constexpr Span(const Container& c)
      : data_(c.data()), size_(c.size()) {}  // NOLINT: implicit, like std::span
  constexpr const T* data() const { return data_; }
  constexpr std::size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const T& operator[](std::size_t i) const { return data_[i]; }
  constexpr const T* begin() const { return data_; }
  constexpr const T* end() const { return data_ + size_; }

 private:
  const T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tailor
