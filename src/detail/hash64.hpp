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
/// The `n` (< 8) bytes at `p` as a word, zero-padded (as copied into a zero word). Whole loads of
/// 4 bytes, not a copy of `n` bytes: those are stored byte by byte and then read back as a word,
/// which stalls.
inline std::uint64_t hash_tail_word(const char* p, std::size_t n) noexcept {
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
#endif
  if (n >= 4) {
    std::uint32_t low, high;
    std::memcpy(&low, p, 4);
    std::memcpy(&high, p + n - 4, 4);  // bytes n-4 .. n-1: the top n-4 are bytes 4 .. n-1
    return low | (static_cast<std::uint64_t>(high) >> (8 * (8 - n)) << 32);
  }
  if (n == 0) return 0;
  const auto byte = [p](std::size_t k) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(p[k]));
  };
  return byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1));
}
/// The first min(n, 8) bytes at `p` as a word, zero-padded.
inline std::uint64_t prefix_word(const char* p, std::size_t n) noexcept {
  if (n < 8) return hash_tail_word(p, n);
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
/// Folds the last `n` (< 8) bytes at `p` into `h` and finishes the hash.
inline std::uint64_t hash_finish(std::uint64_t h, const char* p, std::size_t n) noexcept {
  if (n > 0) h = hash_mix(h ^ hash_tail_word(p, n), kHashP0);
  return hash_mix(h, kHashP1 ^ 0x8ebc6af09c88c6e3ULL);
}
/// IdMap::hash(): the hash of the `n` bytes at `p`.
inline std::uint64_t hash_bytes(const char* p, std::size_t n) noexcept {
  const std::size_t words = n / 8;
  return hash_finish(hash_words(hash_start(n), p, words), p + 8 * words, n % 8);
}

}  // namespace tailor::detail
