// SPDX-License-Identifier: MIT
// A test hook for the store's file writes (internal: tests link tailor::internal).
#pragma once

#include <cstdint>

namespace tailor::detail {

/// The write that takes the byte count past `bytes` fails as if the disk were full (0: never).
void fail_writes_after(std::uint64_t bytes);

}  // namespace tailor::detail
