// SPDX-License-Identifier: MIT
// The one place that decides which instruction-set target the hot kernels run on (internal).
//
// The kernels (ALS solves and Gram product, the float32, bfloat16 and 8-bit catalogue scans, block
// scoring, top-k selection) are compiled once per target inside the library and picked here, at
// run time, from the CPU: the default build runs the widest vectors the machine has without
// -march=native. Every target uses the same data layout, so switching never invalidates a model.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailor::detail {

/// Kernel targets, lowest first: each one's CPU runs every target below it.
enum class CpuTarget {
  /// What the compiler targets without flags (SSE2 on x86-64; the only target elsewhere).
  kBaseline = 0,
  /// SSE4.2 and POPCNT.
  kSse4 = 1,
  /// AVX2 and FMA.
  kAvx2 = 2,
  /// AVX-512 F, BW, DQ and VL (with AVX2 and FMA).
  kAvx512 = 3,
};

/// "baseline", "sse4", "avx2" or "avx512".
std::string_view cpu_target_name(CpuTarget target);

/// The target of a name cpu_target_name() returns; nullopt for any other text.
std::optional<CpuTarget> parse_cpu_target(std::string_view name);

/// The highest target this CPU (and its operating system) supports, detected once.
CpuTarget cpu_best_target();

/// Whether this CPU runs `target`'s kernels.
bool cpu_supports(CpuTarget target);

/// The targets this CPU runs, lowest first (baseline is always one).
std::vector<CpuTarget> cpu_supported_targets();

/// The target the kernels run on: cpu_best_target(), unless the environment variable
/// TAILOR_CPU_TARGET names a lower one (or set_cpu_target() chose one). A TAILOR_CPU_TARGET that
/// is not a target name, or names a target this CPU does not support, is ignored with a message on
/// stderr (once): kernels compiled for missing instructions would crash the process.
CpuTarget cpu_target();

/// The target a TAILOR_CPU_TARGET of `value` (null when unset) chooses on a CPU whose best target
/// is `best`: `best` when unset or empty, the named target when it is at most `best`; otherwise
/// `best`, and `warning` (when given) gets the message to print.
CpuTarget target_from_environment(const char* value, CpuTarget best, std::string* warning);

/// Makes the kernels run on `target` from now on (tests compare targets this way). Throws
/// InvalidArgument when the CPU does not support it. Kernels already running keep their target;
/// every target computes on the same layouts, so a model is valid under any of them.
void set_cpu_target(CpuTarget target);

}  // namespace tailor::detail
