// SPDX-License-Identifier: MIT
// The payload a deserialisation reads, for the length checks of serialize_archive.hpp.
#include "persistence/serialize_archive.hpp"

namespace tailor::detail {

namespace {
// The payload being read and its size (set per deserialisation). Every length and count is
// checked against the bytes actually left before anything is allocated.
thread_local std::streambuf* t_in = nullptr;
thread_local std::uint64_t t_size = 0;
}  // namespace

std::uint64_t bytes_left() {
  const auto pos = t_in->pubseekoff(0, std::ios::cur, std::ios::in);
  if (pos < 0 || static_cast<std::uint64_t>(pos) > t_size) return 0;
  return t_size - static_cast<std::uint64_t>(pos);
}

void check_count(std::uint64_t n, std::uint64_t min_bytes, const char* what) {
  TAILOR_THROW_IF(n > bytes_left() / min_bytes, ErrorCode::ParseError, "a list of ", n, " ", what,
                  " is longer than the rest of the file");
}

PayloadScope::PayloadScope(std::streambuf* buffer, std::uint64_t size) {
  t_in = buffer;
  t_size = size;
}

PayloadScope::~PayloadScope() {
  t_in = nullptr;
  t_size = 0;
}

}  // namespace tailor::detail
