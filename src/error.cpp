// SPDX-License-Identifier: MIT
// tailor::Error.
#include "tailor/error.hpp"

#include <cstring>
#include <utility>

namespace tailor {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "InvalidArgument";
    case ErrorCode::SchemaMismatch:
      return "SchemaMismatch";
    case ErrorCode::NotFound:
      return "NotFound";
    case ErrorCode::ParseError:
      return "ParseError";
    case ErrorCode::Io:
      return "Io";
    case ErrorCode::NotTrained:
      return "NotTrained";
    case ErrorCode::IncompatibleVersion:
      return "IncompatibleVersion";
    case ErrorCode::Internal:
      return "Internal";
    case ErrorCode::Busy:
      return "Busy";
  }
  return "Unknown";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

Error&& Error::at(const char* file, int line, const char* function) && {
  // The file's name only: the directory it was built in says nothing to the reader.
  const char* name = std::strrchr(file, '/');
  where_ = std::string(name ? name + 1 : file) + ":" + std::to_string(line) + " (" + function + ")";
  return std::move(*this);
}

}  // namespace tailor
