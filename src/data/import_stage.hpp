// SPDX-License-Identifier: MIT
// What staging a CSV job leaves for DatasetGroup::commit(): the parsed rows of each chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/csv.hpp"
#include "tailor/data/dataset_group.hpp"

namespace tailor {
namespace detail {

// The parsed, validated rows of one chunk, with chunk-local dictionaries.
struct StagedChunk {
  IdMap user_dict, item_dict, event_dict;
  std::vector<Index> users, items, event_types;  // local codes; kNoIndex = no event type
  std::vector<std::int64_t> timestamps;
  std::vector<float> values;
  std::vector<std::uint8_t> has_value;
  std::vector<Column> columns;
  std::size_t rows = 0, read = 0, rejected = 0;
  std::size_t lines = 0;         // lines the chunk spans
  std::vector<RowError> errors;  // the first `max_reported_errors` of this chunk
  bool malformed_quoting = false;
};

// Where a CSV job's text comes from: a file read in blocks (DatasetGroup::stage_csv()) or text in
// memory (stage_csv_text()). Offsets count from the text's first byte.
class CsvSource {
 public:
  virtual ~CsvSource() = default;
  // Bytes in the text.
  virtual std::size_t size() const = 0;
  // At least the first `bytes` of the text (all of it when shorter), valid until the next call.
  virtual std::string_view prefix(std::size_t bytes) = 0;
  // Record boundaries that split [start, size()) into about `parts` chunks, assuming quoted fields
  // close (a chunk that ends inside one is found malformed, and the job parsed on one thread).
  virtual std::vector<CsvChunk> split(std::size_t start, std::size_t parts, int threads) = 0;
  // Calls parse(begin, end, more_follows) on ranges of the chunk's text in order, each ending at a
  // line end (or the chunk's end): parse returns where it stopped, and the text from there is
  // given again, with more after it, in the next range; the last range has more_follows false.
  virtual void read(const CsvChunk& chunk,
                    const std::function<const char*(const char*, const char*, bool)>& parse) = 0;
  // After the last read: throws if the text changed under the reads in a way they could miss.
  virtual void check_unchanged() {}
};

// The regular file open as `fd`, of `size` bytes, read in blocks of `block` bytes per thread.
std::unique_ptr<CsvSource> file_csv_source(int fd, std::size_t size, std::string path,
                                           std::size_t block);

}  // namespace detail

// The staged rows of a job: its chunks in file order.
struct StagedImport::Rows {
  std::vector<detail::StagedChunk> chunks;
  std::size_t good_rows = 0;
  int threads = 1;
};

}  // namespace tailor
