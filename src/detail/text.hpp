// SPDX-License-Identifier: MIT
// Small text and range helpers shared by several modules (internal).
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

namespace tailor::detail {

/// ASCII lower case (event types and recipe names match case-insensitively).
inline std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The indices 0 .. n-1 as a range, for code written over a list of rows.
struct IndexRange {
  std::size_t n;
  struct Iterator {
    std::size_t i;
    std::size_t operator*() const { return i; }
    Iterator& operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i != o.i; }
  };
  Iterator begin() const { return {0}; }
  Iterator end() const { return {n}; }
};

}  // namespace tailor::detail
