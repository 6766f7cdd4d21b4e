// SPDX-License-Identifier: MIT
// libFuzzer target for the filter lexer and parser: any input must either parse or throw
// tailor::Error; nothing else (crash, hang, other exception) is acceptable.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filters/parser.hpp"
#include "tailor/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    tailor::detail::parse_filter(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const tailor::Error&) {
    // Rejected with a message: fine.
  }
  return 0;
}
