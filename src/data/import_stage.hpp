// SPDX-License-Identifier: MIT
// What staging a CSV job leaves for DatasetGroup::commit(): the parsed rows of each chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

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

}  // namespace detail

// The staged rows of a job: its chunks in file order.
struct StagedImport::Rows {
  std::vector<detail::StagedChunk> chunks;
  std::size_t good_rows = 0;
  int threads = 1;
};

}  // namespace tailor
