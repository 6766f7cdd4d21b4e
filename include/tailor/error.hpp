// SPDX-License-Identifier: MIT
// tailor::Error, the one exception type the library throws, and its error codes.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "tailor/export.hpp"

namespace tailor {

/// What kind of failure an Error reports.
enum class ErrorCode {
  InvalidArgument,      ///< a caller passed a value outside its documented range
  SchemaMismatch,       ///< a schema breaks a rule, or data does not fit its schema
  NotFound,             ///< an id, file, solution or field that does not exist
  ParseError,           ///< malformed text: JSON, CSV header, filter expression
  Io,                   ///< the operating system refused a read or write
  NotTrained,           ///< a model was asked to score before training
  IncompatibleVersion,  ///< a file written by an unknown format version
  Internal,             ///< a bug in tailor itself
  Busy,                 ///< another process holds the dataset group's writer lock
};

/// Name of an error code, e.g. "InvalidArgument".
TAILOR_EXPORT const char* to_string(ErrorCode code) noexcept;

/// The exception tailor throws for every caller-visible failure.
///
/// `what()` holds a message that says what was wrong, where, and what was expected.
class TAILOR_EXPORT Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  /// The kind of failure.
  ErrorCode code() const noexcept { return code_; }
  /// Where tailor raised it, "file.cpp:123 (function)", in builds without NDEBUG; "" otherwise.
  const std::string& where() const noexcept { return where_; }
  /// Records where it was raised (TAILOR_THROW does, in builds without NDEBUG).
  Error&& at(const char* file, int line, const char* function) &&;

 private:
  ErrorCode code_;
  std::string where_;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

}  // namespace tailor

/// Throws tailor::Error(code, message) when `cond` holds; the message is the streamed
/// concatenation of the remaining arguments.
#define TAILOR_THROW_IF(cond, code, ...)       \
  do {                                         \
    if (cond) TAILOR_THROW(code, __VA_ARGS__); \
  } while (false)

/// Throws tailor::Error(code, message) unconditionally; builds without NDEBUG record where.
#ifdef NDEBUG
#define TAILOR_THROW(code, ...) throw ::tailor::Error((code), ::tailor::detail::concat(__VA_ARGS__))
#else
#define TAILOR_THROW(code, ...)                                        \
  throw ::tailor::Error((code), ::tailor::detail::concat(__VA_ARGS__)) \
      .at(__FILE__, __LINE__, __func__)
#endif
