// SPDX-License-Identifier: MIT
// The steps of IdMap::hash(), shared with the store's streaming checksum (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tailor::detail {

inline std::uint64_t hash_mix(std::uint64_t a, std::uint64_t b) noexcept {
  // 64x64 -> 128 multiply folded to 64 bits (the wyhash mixing step).
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
inline constexpr std::uint64_t kHashP0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t kHashP1 = 0xe7037ed1a0b428dbULL;

/// The hash's state before any byte of a string of `size` bytes.
inline std::uint64_t hash_start(std::size_t size) noexcept { return kHashP0 ^ (size * kHashP1); }
/// Folds `words` whole 8-byte words at `p` into `h`.
inline std::uint64_t hash_words(std::uint64_t h, const char* p, std::size_t words) noexcept {
  for (std::size_t k = 0; k < words; ++k) {
    std::uint64_t w;
    std::memcpy(&w, p + 8 * k, 8);
    h = hash_mix(h ^ w, kHashP1);
  }
  return h;
}
/// Folds the last `n` (< 8) bytes at `p` into `h` and finishes the hash.
inline std::uint64_t hash_finish(std::uint64_t h, const char* p, std::size_t n) noexcept {
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = hash_mix(h ^ w, kHashP0);
  }
  return hash_mix(h, kHashP1 ^ 0x8ebc6af09c88c6e3ULL);
}

}  // namespace tailor::detail
