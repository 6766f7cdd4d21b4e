// SPDX-License-Identifier: MIT
// Bulk CSV import: options and the report every import job returns.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/types.hpp"

namespace tailor {

/// FULL replaces the dataset's rows; INCREMENTAL appends interactions and upserts users and
/// items by id (the last row for an id wins).
enum class ImportMode { Full, Incremental };

/// AllOrNothing: a job with any bad row changes nothing. SkipInvalid: good rows land and the
/// report lists the bad ones.
enum class ImportPolicy { AllOrNothing, SkipInvalid };

/// How an import job runs.
struct ImportOptions {
  ImportMode mode = ImportMode::Full;
  ImportPolicy policy = ImportPolicy::AllOrNothing;
  /// Errors kept in the report; the rest are only counted.
  std::size_t max_reported_errors = 100;
  /// Threads and seed; files under `min_parallel_bytes` are parsed on one thread.
  ExecutionOptions execution;
  std::size_t min_parallel_bytes = 1 << 20;
  /// Bytes each thread reads of a file at a time (DatasetGroup::import_csv()): an import holds
  /// this much of the file per thread, not the whole file. A record longer than this is read
  /// whole all the same.
  std::size_t read_block_bytes = 4 << 20;
  /// A FULL import of a header-only file (no data rows) empties the dataset only when true;
  /// otherwise it is refused and the dataset stays as it was. A FULL import whose rows were all
  /// invalid never empties the dataset.
  bool allow_empty = false;
};

/// One rejected row, or a problem with the file as a whole (then `line` is the header's).
struct RowError {
  std::size_t line = 0;  ///< 1-based line where the record starts (the header is line 1)
  std::string column;    ///< field name, or empty for a problem with the whole record
  std::string reason;    ///< what was wrong and what was expected
};

/// What an import job did. The counts always add up:
/// rows_read == rows_imported + rows_rejected + rows_discarded.
struct ImportReport {
  std::size_t rows_read = 0;       ///< data records in the file (blank lines are not records)
  std::size_t rows_imported = 0;   ///< records that landed in the dataset
  std::size_t rows_rejected = 0;   ///< invalid records
  std::size_t rows_discarded = 0;  ///< valid records not applied because the job failed
  std::size_t errors_total = 0;    ///< all errors, including those past the reported cap
  std::vector<RowError> errors;    ///< the first ImportOptions::max_reported_errors errors
  bool applied = false;            ///< whether the dataset changed

  /// True when every record was valid and landed.
  bool ok() const { return applied && errors_total == 0; }
  /// A multi-line human-readable summary.
  TAILOR_EXPORT std::string summary() const;
};

}  // namespace tailor
