// SPDX-License-Identifier: MIT
// RFC 4180 record reader and the record-boundary splitter for parallel parsing.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"

namespace tailor::detail {

/// One CSV record. Fields view the input buffer, or `owned` storage when a field held
/// doubled quotes; they stay valid until the next call to CsvReader::next().
struct CsvRecord {
  std::vector<std::string_view> fields;
  std::size_t line = 0;  ///< 1-based line of the record's first character
  bool ok = true;        ///< false: malformed quoting; `error` says how
  std::string error;
  std::deque<std::string> owned;
};

/// Reads records from [begin, end), which must start at a record boundary.
/// Blank lines are skipped; CRLF and LF both end a record.
///
/// `more_follows`: the range is a block of a longer text. A record that the range's end cuts
/// short (no end of line before it, say inside a quoted field) is then not read: next() returns
/// false, incomplete() is true, and position() and line() are at that record's start, for the
/// caller to read it again with more text. Otherwise the range's end ends the text.
class CsvReader {
 public:
  CsvReader(const char* begin, const char* end, std::size_t first_line, bool more_follows = false)
      : p_(begin), end_(end), line_(first_line), more_follows_(more_follows) {}
  /// Reads the next record into `rec`; false at the end of the range. Exported for the command
  /// line (reading id columns); this header is not installed.
  TAILOR_EXPORT bool next(CsvRecord& rec);
  const char* position() const { return p_; }
  /// Line number of the next unread character.
  std::size_t line() const { return line_; }
  /// Whether next() stopped at a record the range cut short (only with more_follows).
  bool incomplete() const { return incomplete_; }

 private:
  // Moves past the end of the line; false when the range ends first.
  bool skip_to_line_end();
  // Reads the record at p_ when it is one line without quotes or carriage returns that ends in
  // the next 64 bytes; false (reading nothing) otherwise.
  bool read_plain_line(CsvRecord& rec);
  const char* p_;
  const char* end_;
  std::size_t line_;
  bool more_follows_;
  bool incomplete_ = false;
};

/// A byte range of the input that starts at a record boundary.
struct CsvChunk {
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// The quote characters in [begin, end). Whether a place is inside a quoted field is the parity
/// of the quotes before it (from a record boundary): a doubled quote toggles twice.
std::size_t count_quotes(const char* begin, const char* end);

/// The text's bytes [offset, offset + n) for split_csv(): where they are, or copied into
/// `scratch` (n bytes).
using CsvBytes = std::function<const char*(std::size_t offset, std::size_t n, char* scratch)>;

/// Splits [start, size) of a text into about `parts` chunks at record boundaries, tracking quotes
/// (a newline inside a quoted field is not a boundary); the text is looked at through `bytes`,
/// 256 KiB at a time, so that a file need not be in memory.
std::vector<CsvChunk> split_csv(std::size_t size, std::size_t start, std::size_t parts, int threads,
                                const CsvBytes& bytes);

/// The same for text in memory, data[start, size).
std::vector<CsvChunk> split_csv(const char* data, std::size_t size, std::size_t start,
                                std::size_t parts, int threads);

}  // namespace tailor::detail
