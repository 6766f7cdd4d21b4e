// SPDX-License-Identifier: MIT
// Bitmap: a fixed-size set of item indices, the currency of filters and masks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tailor/detail/bits.hpp"
#include "tailor/types.hpp"

namespace tailor {

/// A set of indices in [0, size()), one bit each.
///
/// Thread safety: const members may be called concurrently; mutation needs external
/// synchronisation.
class Bitmap {
 public:
  Bitmap() = default;
  /// `size` bits, all set to `value`.
  explicit Bitmap(std::size_t size, bool value = false)
      : words_((size + 63) / 64, value ? ~std::uint64_t{0} : 0), size_(size) {
    trim();
  }
  std::size_t size() const { return size_; }
  bool test(std::size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  void set(std::size_t i) { words_[i >> 6] |= std::uint64_t{1} << (i & 63); }
  void reset(std::size_t i) { words_[i >> 6] &= ~(std::uint64_t{1} << (i & 63)); }
  /// Sets bit i when `value` (branch-free, for scans whose outcome is unpredictable).
  void set_if(std::size_t i, bool value) { words_[i >> 6] |= std::uint64_t{value} << (i & 63); }
  /// Number of set bits.
  std::size_t count() const {
    std::size_t n = 0;
    for (std::uint64_t w : words_) n += static_cast<std::size_t>(detail::popcount64(w));
    return n;
  }
  /// Grows or shrinks to `size` bits; new bits take `value`.
  void resize(std::size_t size, bool value = false) {
    const std::size_t old = size_;
    words_.resize((size + 63) / 64, value ? ~std::uint64_t{0} : 0);
    size_ = size;
    if (value) {
      for (std::size_t i = old; i < size && (i & 63) != 0; ++i) set(i);
    } else if (old < size && (old & 63) != 0) {
      words_[old >> 6] &= (std::uint64_t{1} << (old & 63)) - 1;
    }
    trim();
  }
  /// this &= other (sizes must match).
  Bitmap& operator&=(const Bitmap& other) {
    for (std::size_t w = 0; w < words_.size(); ++w) words_[w] &= other.words_[w];
    return *this;
  }
  /// this |= other (sizes must match).
  Bitmap& operator|=(const Bitmap& other) {
    for (std::size_t w = 0; w < words_.size(); ++w) words_[w] |= other.words_[w];
    return *this;
  }
  /// this &= ~other (sizes must match).
  Bitmap& subtract(const Bitmap& other) {
    for (std::size_t w = 0; w < words_.size(); ++w) words_[w] &= ~other.words_[w];
    return *this;
  }
  /// Sets every bit to `value`.
  void fill(bool value) {
    for (std::uint64_t& w : words_) w = value ? ~std::uint64_t{0} : 0;
    trim();
  }
  const std::vector<std::uint64_t>& words() const { return words_; }
  /// The indices of the set bits, ascending.
  std::vector<Index> set_indices() const {
    std::vector<Index> out;
    for (std::size_t w = 0; w < words_.size(); ++w) {
      for (std::uint64_t bits = words_[w]; bits != 0; bits &= bits - 1) {
        out.push_back(
            static_cast<Index>(w * 64 + static_cast<std::size_t>(detail::countr_zero64(bits))));
      }
    }
    return out;
  }
  bool operator==(const Bitmap& other) const {
    return size_ == other.size_ && words_ == other.words_;
  }

 private:
  // Bits past size() stay zero so count() and comparisons are exact.
  void trim() {
    if (size_ & 63) words_.back() &= (std::uint64_t{1} << (size_ & 63)) - 1;
  }
  std::vector<std::uint64_t> words_;
  std::size_t size_ = 0;
};

}  // namespace tailor
