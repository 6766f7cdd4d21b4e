// SPDX-License-Identifier: MIT
// Portable bit counting and prefetch: C++20 <bit> where the library has it, the GCC/Clang
// builtins otherwise, MSVC intrinsics there. Header-only, so public inline code can use it.
#pragma once

#include <cstdint>
#if __has_include(<bit>)
#include <bit>
#endif
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

namespace tailor::detail {

/// Number of set bits in `x`.
inline int popcount64(std::uint64_t x) {
#if defined(__cpp_lib_bitops)
  return std::popcount(x);
#elif defined(_MSC_VER) && !defined(__clang__) && defined(_M_X64)
  return static_cast<int>(__popcnt64(x));
#elif defined(__GNUC__) || defined(__clang__)
  return __builtin_popcountll(x);
#else
  int n = 0;
  for (; x != 0; x &= x - 1) ++n;
  return n;
#endif
}

/// Index of the lowest set bit of `x`, which must not be 0.
inline int countr_zero64(std::uint64_t x) {
#if defined(__cpp_lib_bitops)
  return std::countr_zero(x);
#elif defined(_MSC_VER) && !defined(__clang__) && defined(_M_X64)
  unsigned long at = 0;
  _BitScanForward64(&at, x);
  return static_cast<int>(at);
#elif defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(x);
#else
  int n = 0;
  for (; (x & 1) == 0; x >>= 1) ++n;
  return n;
#endif
}

/// Hints that the cache line holding `p` will be read soon; a no-op where there is no hint.
inline void prefetch_read(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#else
  (void)p;
#endif
}

}  // namespace tailor::detail
