// SPDX-License-Identifier: MIT
// The ALS and scan kernels of one instruction-set target, as a table of functions (internal).
//
// als_simd.cpp compiles the same kernel source (als_simd_kernels.inc) once per target of
// detail/cpu.hpp; als_kernels.cpp, bf16_scan.cpp and int8_scan.cpp call the table of the target in
// force. The kernels take raw pointers only: no Eigen, no standard-library inline code is
// compiled with a target's instructions, so the linker can never keep such a copy for a CPU
// without them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "detail/cpu.hpp"
#include "tailor/types.hpp"

namespace tailor::detail {

/// Items per panel in the serving layout of item factors, the same for every target.
inline constexpr std::size_t kScorePanel = 16;

/// One conjugate-gradient sweep's inputs (see als_solve_rows): X and Y row-major with f columns,
/// G the f×f symmetric matrix YᵀY + λI, row r of the CSR matrix R (r < csr_rows) the row's
/// (column, value) pairs.
struct CgProblem {
  float* X;
  const float* Y;
  int f;
  const float* G;
  const std::size_t* offsets;
  const Index* indices;
  const float* values;
  Index csr_rows;
  float alpha;
  int steps;
};

/// The kernels of one target.
struct AlsSimd {
  /// CG-solves rows [begin_row, end_row) of X in place; `scratch` holds 3·f floats.
  void (*cg_rows)(const CgProblem& problem, Index begin_row, Index end_row, float* scratch);
  /// G = YᵀY (f×f, row-major) for row-major Y (n × f).
  void (*gram)(const float* Y, std::size_t n, int f, float* G);
  /// scores[i] = u · y_i for the n items of float32 panels (layout of score_panels()).
  void (*scan)(const float* panels, const float* u, int f, std::size_t n, float* scores);
  /// scores[i] = v · b_i for the n items of bfloat16 panels (layout of bf16_panels()); v holds
  /// 2·pairs factors (an odd last one paired with a zero).
  void (*scan_bf16)(const std::uint32_t* panels, const float* v, std::size_t pairs, std::size_t n,
                    float* scores);
  /// The same with the user in bfloat16 too, as two parts (v ≈ high + low): scores[i] =
  /// Σ_k (high_k + low_k)·b_ik summed in float32, `user` holding `pairs` words of the high parts
  /// and then `pairs` words of the low ones (layout of the panels' words). Subnormal factors count
  /// as zero and subnormal sums become zero. Null except on AVX-512 where the CPU has its bfloat16
  /// dot products (vdpbf16ps).
  void (*scan_bf16_dot)(const std::uint32_t* panels, const std::uint32_t* user, std::size_t pairs,
                        std::size_t n, float* scores);
  /// scores[i] = scales[i] · (u · q_i) for the n items of 8-bit panels (layout of
  /// int8_panels(), scales kScorePanel per panel); u holds 4·quads factors (zeros past the last).
  void (*scan_int8)(const std::uint32_t* panels, const float* scales, const float* u,
                    std::size_t quads, std::size_t n, float* scores);
  /// The same with the user quantised: scores[i] = scales[i] · user_scale · (v · q_i), `user`
  /// holding quads words of |v| bytes and then quads words of v's bytes (layout of the panels'
  /// words). Null on the baseline target (no byte dot products before SSSE3).
  void (*scan_int8_dot)(const std::uint32_t* panels, const float* scales, const std::uint32_t* user,
                        float user_scale, std::size_t quads, std::size_t n, float* scores);
};

/// The compact copy of the item factors a single request scans (see bf16_scan.hpp and
/// int8_scan.hpp).
enum class ServingScan { kBf16, kInt8 };

/// The copy serving scans on `target`, chosen by measured request latency (p99 first); the one
/// place that chooses.
ServingScan serving_scan(CpuTarget target);

/// The kernels of `target` (which the CPU must support).
const AlsSimd& als_simd(CpuTarget target);

/// The kernels of cpu_target().
inline const AlsSimd& als_simd() { return als_simd(cpu_target()); }

}  // namespace tailor::detail
