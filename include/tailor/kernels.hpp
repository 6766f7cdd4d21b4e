// SPDX-License-Identifier: MIT
// Which instruction-set target tailor's numeric kernels run on.
#pragma once

#include <string_view>

#include "tailor/export.hpp"

namespace tailor {

/// The instruction-set target the numeric kernels (ALS training, catalogue scans, block scoring,
/// top-k selection) were picked for at run time: "avx512", "avx2", "sse4" or "baseline". The
/// highest one the CPU supports, unless the environment variable TAILOR_CPU_TARGET names a lower
/// one (a higher or unknown one is ignored, with a message on stderr).
TAILOR_EXPORT std::string_view kernel_target();

}  // namespace tailor
