// SPDX-License-Identifier: MIT
#include "detail/cpu.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tailor/error.hpp"
#include "tailor/kernels.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define TAILOR_X86 1
#endif

namespace tailor::detail {

namespace {

constexpr std::array<std::string_view, 4> kNames = {"baseline", "sse4", "avx2", "avx512"};

CpuTarget detect() {
#ifdef TAILOR_X86
  // The compiler's run-time check also asks the operating system whether it saves the wider
  // registers (XGETBV), not only whether the CPU has the instructions.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return CpuTarget::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuTarget::kAvx2;
  if (__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt")) {
    return CpuTarget::kSse4;
  }
#endif
  return CpuTarget::kBaseline;
}

// The target at start-up: the best one, or a lower one from TAILOR_CPU_TARGET.
CpuTarget initial_target() {
  std::string warning;
  const CpuTarget target =
      target_from_environment(std::getenv("TAILOR_CPU_TARGET"), cpu_best_target(), &warning);
  if (!warning.empty()) std::fprintf(stderr, "tailor: %s\n", warning.c_str());
  return target;
}

std::atomic<int>& chosen() {
  static std::atomic<int> target{static_cast<int>(initial_target())};
  return target;
}

}  // namespace

std::string_view cpu_target_name(CpuTarget target) {
  return kNames[static_cast<std::size_t>(target)];
}

std::optional<CpuTarget> parse_cpu_target(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<CpuTarget>(i);
  }
  return std::nullopt;
}

CpuTarget cpu_best_target() {
  static const CpuTarget best = detect();
  return best;
}

bool cpu_supports(CpuTarget target) { return target <= cpu_best_target(); }

std::vector<CpuTarget> cpu_supported_targets() {
  std::vector<CpuTarget> out;
  for (int t = 0; t <= static_cast<int>(cpu_best_target()); ++t) {
    out.push_back(static_cast<CpuTarget>(t));
  }
  return out;
}

CpuTarget target_from_environment(const char* value, CpuTarget best, std::string* warning) {
  if (value == nullptr || *value == '\0') return best;
  const std::optional<CpuTarget> asked = parse_cpu_target(value);
  if (asked && *asked <= best) return *asked;
  if (warning != nullptr) {
    *warning = std::string("TAILOR_CPU_TARGET=") + value +
               (asked ? " is ignored: this CPU supports up to " + std::string(cpu_target_name(best))
                      : std::string(" is ignored: not one of baseline, sse4, avx2, avx512")) +
               "; the kernels run on " + std::string(cpu_target_name(best));
  }
  return best;
}

CpuTarget cpu_target() { return static_cast<CpuTarget>(chosen().load(std::memory_order_relaxed)); }

void set_cpu_target(CpuTarget target) {
  TAILOR_THROW_IF(!cpu_supports(target), ErrorCode::InvalidArgument, "kernel target ",
                  cpu_target_name(target),
                  " is not supported by this CPU (best: ", cpu_target_name(cpu_best_target()), ")");
  chosen().store(static_cast<int>(target), std::memory_order_relaxed);
}

}  // namespace tailor::detail

namespace tailor {

std::string_view kernel_target() { return detail::cpu_target_name(detail::cpu_target()); }

}  // namespace tailor
