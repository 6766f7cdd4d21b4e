// SPDX-License-Identifier: MIT
// The kernel target: names, what the CPU supports, TAILOR_CPU_TARGET, switching in a process.
#include "detail/cpu.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tailor/error.hpp"
#include "tailor/kernels.hpp"

namespace tailor {
namespace {

using detail::CpuTarget;

TEST(DetailCpu, NamesRoundTripAndNothingElseParses) {
  for (CpuTarget t :
       {CpuTarget::kBaseline, CpuTarget::kSse4, CpuTarget::kAvx2, CpuTarget::kAvx512}) {
    EXPECT_EQ(detail::parse_cpu_target(detail::cpu_target_name(t)), t);
  }
  EXPECT_EQ(detail::cpu_target_name(CpuTarget::kAvx512), "avx512");
  EXPECT_EQ(detail::cpu_target_name(CpuTarget::kBaseline), "baseline");
  for (const char* bad : {"", "AVX2", "avx", "sse2", "avx512f", " avx2", "native"}) {
    EXPECT_FALSE(detail::parse_cpu_target(bad).has_value()) << bad;
  }
}

TEST(DetailCpu, SupportedTargetsRunFromBaselineToTheBest) {
  const std::vector<CpuTarget> targets = detail::cpu_supported_targets();
  ASSERT_FALSE(targets.empty());
  EXPECT_EQ(targets.front(), CpuTarget::kBaseline);
  EXPECT_EQ(targets.back(), detail::cpu_best_target());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(targets[i]), i);
    EXPECT_TRUE(detail::cpu_supports(targets[i]));
  }
  if (detail::cpu_best_target() != CpuTarget::kAvx512) {
    EXPECT_FALSE(detail::cpu_supports(CpuTarget::kAvx512));
  }
}

TEST(DetailCpu, TheEnvironmentChoosesOnlyALowerTarget) {
  std::string warning;
  EXPECT_EQ(detail::target_from_environment(nullptr, CpuTarget::kAvx2, &warning), CpuTarget::kAvx2);
  EXPECT_EQ(detail::target_from_environment("", CpuTarget::kAvx2, &warning), CpuTarget::kAvx2);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(detail::target_from_environment("sse4", CpuTarget::kAvx2, &warning), CpuTarget::kSse4);
  EXPECT_EQ(detail::target_from_environment("baseline", CpuTarget::kAvx2, &warning),
            CpuTarget::kBaseline);
  EXPECT_EQ(detail::target_from_environment("avx2", CpuTarget::kAvx2, &warning), CpuTarget::kAvx2);
  EXPECT_TRUE(warning.empty());

  // Higher than the CPU: ignored, with a message naming what runs instead.
  EXPECT_EQ(detail::target_from_environment("avx512", CpuTarget::kAvx2, &warning),
            CpuTarget::kAvx2);
  EXPECT_NE(warning.find("TAILOR_CPU_TARGET=avx512 is ignored"), std::string::npos) << warning;
  EXPECT_NE(warning.find("supports up to avx2"), std::string::npos) << warning;
  warning.clear();
  EXPECT_EQ(detail::target_from_environment("AVX-512", CpuTarget::kSse4, &warning),
            CpuTarget::kSse4);
  EXPECT_NE(warning.find("not one of baseline, sse4, avx2, avx512"), std::string::npos) << warning;
  EXPECT_NE(warning.find("the kernels run on sse4"), std::string::npos) << warning;
  EXPECT_EQ(detail::target_from_environment("avx2", CpuTarget::kBaseline, nullptr),
            CpuTarget::kBaseline);
}

TEST(DetailCpu, SetCpuTargetSwitchesAndRefusesWhatTheCpuLacks) {
  const CpuTarget before = detail::cpu_target();
  for (CpuTarget t : detail::cpu_supported_targets()) {
    detail::set_cpu_target(t);
    EXPECT_EQ(detail::cpu_target(), t);
    EXPECT_EQ(kernel_target(), detail::cpu_target_name(t));
  }
  if (detail::cpu_best_target() != CpuTarget::kAvx512) {
    EXPECT_THROW(detail::set_cpu_target(CpuTarget::kAvx512), Error);
    EXPECT_EQ(detail::cpu_target(), detail::cpu_best_target());  // unchanged by the refusal
  }
  detail::set_cpu_target(before);
}

}  // namespace
}  // namespace tailor
