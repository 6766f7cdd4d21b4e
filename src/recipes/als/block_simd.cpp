// SPDX-License-Identifier: MIT
// The block-scoring kernel of every target: block_simd_kernels.inc compiled once per target with
// its instructions enabled by function attributes (see als_simd.cpp for why attributes), and the
// table that picks them.
#include "recipes/als/block_simd.hpp"

#include <cstddef>

#include "detail/simd_targets.hpp"
#include "recipes/als/als_simd.hpp"
#include "recipes/als/int8_scan.hpp"

#ifdef TAILOR_SIMD_X86
#include <immintrin.h>
#endif

namespace tailor::detail {

// Tiles: 4-float vectors make a panel row 4 registers, so 2 users × 1 panel is 8 accumulators of
// 16; AVX2's 6 users × 1 panel is 12 of 16; AVX-512's 8 users × 2 panels is 16 of 32 (more
// users per panel row loaded would leave too few registers for two panels' rows).
#define TAILOR_SIMD_NS baseline
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET
#define TAILOR_BLOCK_USERS 2
#define TAILOR_BLOCK_PANELS 1
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS

#ifdef TAILOR_SIMD_X86
#define TAILOR_SIMD_NS sse4
#define TAILOR_SIMD_LANES 4
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_SSE4
#define TAILOR_BLOCK_USERS 2
#define TAILOR_BLOCK_PANELS 1
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS

#define TAILOR_SIMD_NS avx2
#define TAILOR_SIMD_LANES 8
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX2
#define TAILOR_BLOCK_USERS 6
#define TAILOR_BLOCK_PANELS 1
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS

#define TAILOR_SIMD_NS avx512
#define TAILOR_SIMD_LANES 16
#define TAILOR_SIMD_TARGET TAILOR_SIMD_TARGET_AVX512
#define TAILOR_BLOCK_USERS 8
#define TAILOR_BLOCK_PANELS 2
#include "recipes/als/block_simd_kernels.inc"
#undef TAILOR_SIMD_NS
#undef TAILOR_SIMD_TARGET
#undef TAILOR_SIMD_LANES
#undef TAILOR_BLOCK_USERS
#undef TAILOR_BLOCK_PANELS

// The 8-bit product on AVX-512 VNNI, within the AVX-512 target when the CPU has it: vpdpbusd adds
// four products of an unsigned and a signed byte to each 32-bit lane, with no 16-bit
// intermediate to saturate. The items' bytes are stored unsigned (q + 128, bias_int8_words())
// and the user's stay signed, so a lane sums v·q + 128·Σv, and 128·Σv, the same for every item,
// is taken off at the end: the dot product exactly, as the portable kernel's.
// A tile of R users × P panels keeps R·P sums in registers through all quads (16 of 32 registers
// at 4 × 4); each quad loads P panel rows and broadcasts one word per user: 8 loads for 16
// products at 4 × 4 against 10 at 8 × 2 (BM_ScoreBlockInt8: 396 against 368 GFLOP/s a core).
namespace {
namespace avx512_vnni {

#define TAILOR_VNNI_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma")))
#define TAILOR_VNNI_INLINE TAILOR_VNNI_TARGET __attribute__((always_inline)) inline

template <std::size_t R, std::size_t P>
TAILOR_VNNI_INLINE void tile(const std::uint32_t* panels, const float* scales, std::size_t quads,
                             const std::uint32_t* users, float* out, std::size_t out_stride) {
  const std::size_t words = int8_user_words(quads);
  __m512i acc[R][P];
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t p = 0; p < P; ++p) acc[r][p] = _mm512_setzero_si512();
  }
  for (std::size_t g = 0; g < quads; ++g) {
    __m512i y[P];
    for (std::size_t p = 0; p < P; ++p) {
      y[p] = _mm512_loadu_si512(panels + (p * quads + g) * kScorePanel);
    }
    for (std::size_t r = 0; r < R; ++r) {
      const __m512i v = _mm512_set1_epi32(static_cast<int>(users[r * words + g]));
      for (std::size_t p = 0; p < P; ++p) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], y[p], v);
    }
  }
  for (std::size_t r = 0; r < R; ++r) {
    const __m512i offset = _mm512_set1_epi32(128 * int8_user_sum(users + r * words, quads));
    const __m512 unit = _mm512_set1_ps(int8_user_scale(users + r * words, quads));
    for (std::size_t p = 0; p < P; ++p) {
      const __m512 scale = _mm512_mul_ps(_mm512_loadu_ps(scales + p * kScorePanel), unit);
      // Converted by a vector conversion: the intrinsic's undefined pass-through operand trips
      // the compiler's uninitialised-use warning.
      using Ints = int __attribute__((vector_size(64)));
      using Floats = float __attribute__((vector_size(64)));
      const __m512 s =
          _mm512_mul_ps(__builtin_convertvector(
                            reinterpret_cast<Ints>(_mm512_sub_epi32(acc[r][p], offset)), Floats),
                        scale);
      _mm512_storeu_ps(out + r * out_stride + p * kScorePanel, s);
    }
  }
}

// The last `rest` (< R) users, by a tile of exactly that many.
template <std::size_t R, std::size_t P>
TAILOR_VNNI_INLINE void rest_tile(std::size_t rest, const std::uint32_t* panels,
                                  const float* scales, std::size_t quads,
                                  const std::uint32_t* users, float* out, std::size_t out_stride) {
  if constexpr (R > 1) {
    if (rest == R - 1) {
      tile<R - 1, P>(panels, scales, quads, users, out, out_stride);
    } else {
      rest_tile<R - 1, P>(rest, panels, scales, quads, users, out, out_stride);
    }
  }
}

template <std::size_t P>
TAILOR_VNNI_INLINE void users_by_panels(const std::uint32_t* panels, const float* scales,
                                        std::size_t quads, const std::uint32_t* users,
                                        std::size_t count, float* out, std::size_t out_stride) {
  constexpr std::size_t R = 4;
  const std::size_t words = int8_user_words(quads);
  std::size_t j = 0;
  for (; j + R <= count; j += R) {
    tile<R, P>(panels, scales, quads, users + j * words, out + j * out_stride, out_stride);
  }
  if (j < count) {
    rest_tile<R, P>(count - j, panels, scales, quads, users + j * words, out + j * out_stride,
                    out_stride);
  }
}

TAILOR_VNNI_TARGET void score_block_int8(const std::uint32_t* panels, const float* scales,
                                         std::size_t quads, const std::uint32_t* users,
                                         std::size_t count, std::size_t panel_count, float* out,
                                         std::size_t out_stride) {
  constexpr std::size_t P = 4;
  std::size_t p = 0;
  for (; p + P <= panel_count; p += P) {
    users_by_panels<P>(panels + p * quads * kScorePanel, scales + p * kScorePanel, quads, users,
                       count, out + p * kScorePanel, out_stride);
  }
  for (; p < panel_count; ++p) {
    users_by_panels<1>(panels + p * quads * kScorePanel, scales + p * kScorePanel, quads, users,
                       count, out + p * kScorePanel, out_stride);
  }
}

#undef TAILOR_VNNI_TARGET
#undef TAILOR_VNNI_INLINE

constexpr BlockSimd kKernels = {avx512::kKernels.score_block, &score_block_int8, true, 127};

}  // namespace avx512_vnni

// The 8-bit product on AVX2, which has no byte dot product with 32-bit sums: vpmaddubsw
// multiplies unsigned bytes by signed ones and adds each pair into 16 bits, saturating; vpmaddwd
// by ones then adds pairs of those into 32 bits. The items' bytes are stored unsigned (q + 128,
// bias_int8_words(), at most 255) and the user's are signed in [−64, 64] (int8_user_largest), so
// a pair is within ±2·255·64 = ±32,640 and never saturates: the dot product is exact, as the
// portable kernel's, and 128·Σv is taken off at the end as on VNNI. Three instructions for 32
// byte products, where float32 needs four multiply-adds (bytes of 127 would need a fourth, a
// vpsignb to move the sign onto the item: measured 124 against 175 GFLOP/s a core, both at R = 6).
// A tile of R users × one panel keeps 2R sums in registers: 6 at R = 3, next to the two panel rows,
// the broadcast word, the ones and each product's temporaries. Larger tiles measured slower
// (BM_ScoreBlockInt8: 204 GFLOP/s a core at R = 3, 167 at 4, 180 at 6, 190 at 2).
namespace avx2_int8 {

#define TAILOR_AVX2_INT8_TARGET TAILOR_SIMD_TARGET_AVX2
#define TAILOR_AVX2_INT8_INLINE TAILOR_AVX2_INT8_TARGET __attribute__((always_inline)) inline

template <std::size_t R>
TAILOR_AVX2_INT8_INLINE void tile(const std::uint32_t* panel, const float* scales,
                                  std::size_t quads, const std::uint32_t* users, float* out,
                                  std::size_t out_stride) {
  const std::size_t words = int8_user_words(quads);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[R][2];
  for (std::size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (std::size_t g = 0; g < quads; ++g) {
    const std::uint32_t* row = panel + g * kScorePanel;
    const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row));
    const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 8));
    for (std::size_t r = 0; r < R; ++r) {
      const __m256i v = _mm256_set1_epi32(static_cast<int>(users[r * words + g]));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(y0, v), ones));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(y1, v), ones));
    }
  }
  for (std::size_t r = 0; r < R; ++r) {
    const __m256i offset = _mm256_set1_epi32(128 * int8_user_sum(users + r * words, quads));
    const __m256 unit = _mm256_set1_ps(int8_user_scale(users + r * words, quads));
    for (std::size_t h = 0; h < 2; ++h) {
      const __m256 scale = _mm256_mul_ps(_mm256_loadu_ps(scales + h * 8), unit);
      const __m256 dot = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][h], offset));
      _mm256_storeu_ps(out + r * out_stride + h * 8, _mm256_mul_ps(dot, scale));
    }
  }
}

template <std::size_t R>
TAILOR_AVX2_INT8_INLINE void rest_tile(std::size_t rest, const std::uint32_t* panel,
                                       const float* scales, std::size_t quads,
                                       const std::uint32_t* users, float* out,
                                       std::size_t out_stride) {
  if constexpr (R > 1) {
    if (rest == R - 1) {
      tile<R - 1>(panel, scales, quads, users, out, out_stride);
    } else {
      rest_tile<R - 1>(rest, panel, scales, quads, users, out, out_stride);
    }
  }
}

TAILOR_AVX2_INT8_TARGET void score_block_int8(const std::uint32_t* panels, const float* scales,
                                              std::size_t quads, const std::uint32_t* users,
                                              std::size_t count, std::size_t panel_count,
                                              float* out, std::size_t out_stride) {
  constexpr std::size_t R = 3;
  const std::size_t words = int8_user_words(quads);
  for (std::size_t p = 0; p < panel_count; ++p) {
    const std::uint32_t* panel = panels + p * quads * kScorePanel;
    const float* panel_scales = scales + p * kScorePanel;
    float* panel_out = out + p * kScorePanel;
    std::size_t j = 0;
    for (; j + R <= count; j += R) {
      tile<R>(panel, panel_scales, quads, users + j * words, panel_out + j * out_stride,
              out_stride);
    }
    if (j < count) {
      rest_tile<R>(count - j, panel, panel_scales, quads, users + j * words,
                   panel_out + j * out_stride, out_stride);
    }
  }
}

#undef TAILOR_AVX2_INT8_TARGET
#undef TAILOR_AVX2_INT8_INLINE

constexpr BlockSimd kKernels = {avx2::kKernels.score_block, &score_block_int8, true, 64};

}  // namespace avx2_int8

bool cpu_has_avx512_vnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni");
}
}  // namespace
#endif

float int8_block_user(const float* u, int f, int largest, std::uint32_t* row) {
  const std::size_t quads = (static_cast<std::size_t>(f) + 3) / 4;
  float user_scale = 0;
  const float scale = int8_user(u, f, row, &user_scale, largest);  // writes nothing on −1
  if (!(scale > 0)) return -1;
  std::int32_t sum = 0;
  for (std::size_t g = 0; g < quads; ++g) {
    for (unsigned b = 0; b < 32; b += 8) {
      sum += static_cast<std::int8_t>(static_cast<std::uint8_t>(row[g] >> b));
    }
  }
  __builtin_memcpy(row + quads, &user_scale, sizeof user_scale);
  __builtin_memcpy(row + quads + 1, &sum, sizeof sum);
  row[quads + 2] = static_cast<std::uint32_t>(largest);
  return scale;
}

bool int8_users_within(const std::uint32_t* users, std::size_t count, std::size_t quads,
                       int largest) {
  const std::size_t words = int8_user_words(quads);
  for (std::size_t j = 0; j < count; ++j) {
    if (users[j * words + quads + 2] > static_cast<std::uint32_t>(largest)) return false;
  }
  return true;
}

void bias_int8_words(std::vector<std::uint32_t, LargeAllocator<std::uint32_t>>& words) {
  for (std::uint32_t& w : words) w ^= 0x80808080u;  // each byte's top bit: q + 128 mod 256
}

const BlockSimd& block_simd(CpuTarget target) {
#ifdef TAILOR_SIMD_X86
  static const bool vnni = cpu_has_avx512_vnni();
  if (target == CpuTarget::kAvx512 && vnni) return avx512_vnni::kKernels;
  if (target == CpuTarget::kAvx2) return avx2_int8::kKernels;
#endif
  return TAILOR_SIMD_SELECT(target);
}

bool batch_int8(CpuTarget target) { return block_simd(target).fast_int8; }

void score_int8_block(const Int8Panels& panels, std::size_t quads, const std::uint32_t* users,
                      std::size_t users_count, std::size_t first_panel, std::size_t panel_count,
                      float* out, std::size_t out_stride) {
  const BlockSimd* kernels = &block_simd();
  if (!int8_users_within(users, users_count, quads, kernels->int8_user_largest)) {
    kernels = &block_simd(CpuTarget::kBaseline);
  }
  kernels->score_block_int8(panels.words.data() + first_panel * quads * kScorePanel,
                            panels.scales.data() + first_panel * kScorePanel, quads, users,
                            users_count, panel_count, out, out_stride);
}

}  // namespace tailor::detail
