// SPDX-License-Identifier: MIT
// Running a test's kernels under each instruction-set target this CPU supports.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "detail/cpu.hpp"

namespace tailor::test {

/// The kernels run on `target` for this object's lifetime, then on the target chosen before.
class ScopedCpuTarget {
 public:
  explicit ScopedCpuTarget(detail::CpuTarget target)
      : before_(detail::cpu_target()),
        trace_(__FILE__, __LINE__,
               "kernel target " + std::string(detail::cpu_target_name(target))) {
    detail::set_cpu_target(target);
  }
  ~ScopedCpuTarget() { detail::set_cpu_target(before_); }
  ScopedCpuTarget(const ScopedCpuTarget&) = delete;
  ScopedCpuTarget& operator=(const ScopedCpuTarget&) = delete;

 private:
  detail::CpuTarget before_;
  ::testing::ScopedTrace trace_;
};

}  // namespace tailor::test
