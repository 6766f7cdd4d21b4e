// SPDX-License-Identifier: MIT
// Batch inference: JSON Lines in, JSON Lines out in Personalize's shape, streamed and parallel.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tailor/export.hpp"
#include "tailor/filters/filter.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {

/// How a batch inference job runs.
struct BatchOptions {
  std::size_t num_results = 25;        ///< per line unless the line says "numResults"
  std::optional<Filter> filter;        ///< for the whole job (optional)
  FilterValues filter_values;          ///< job-wide; a line's "filterValues" replace them
  ExecutionOptions execution;          ///< threads
  std::size_t lines_per_block = 4096;  ///< lines read, scored and written at a time (memory bound)
  /// Items fields returned with each item (metadataColumns), for the whole job: the output gets
  /// "metadata", one {"FIELD":"value"} object per recommended item.
  std::vector<std::string> metadata_columns;
};

/// What a job did.
struct BatchReport {
  std::size_t lines_read = 0;
  std::size_t succeeded = 0;
  std::size_t failed = 0;  ///< lines written with an "error" entry
  double seconds = 0;
};

/// Reads `input` (one JSON object per line: {"userId"}, {"itemId"} or {"userId","itemList"},
/// optionally "numResults" and "filterValues" in Personalize's wire form) and writes one line per
/// input line, in order, to `output`:
/// {"input":{…},"output":{"recommendedItems":[…],"scores":[…]},"error":null}; "exploration"
/// (true per explored item) when exploration filled slots, "metadata" when columns were asked for.
/// A malformed line, an unknown item or a bad request gives its line an "error" and the job goes
/// on. Output goes to a new, uniquely named temporary file next to `output`
/// (`<output>.tmp.<random>`), renamed over `output` at the end; a failed job removes it and leaves
/// no half file. Lines are processed in blocks of `lines_per_block`, in parallel within a block.
/// @param progress called after each block with the lines done so far (may be empty)
/// @throws tailor::Error(InvalidArgument), before anything is written, when `output` is the
///         input file (by any name: symlinks and hard links included), when one path is named like
///         the other's temporary file (`<path>.tmp`, `<path>.tmp.*`), when either path is empty, or
///         when `output` exists and is not a regular file (a device, directory or FIFO);
///         (Io) when a file cannot be read or written
TAILOR_EXPORT BatchReport run_batch_inference(
    const Campaign& campaign, const std::string& input, const std::string& output,
    const BatchOptions& options, const std::function<void(std::size_t)>& progress = {});

}  // namespace tailor
