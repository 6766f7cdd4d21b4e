// SPDX-License-Identifier: MIT
// Persistence: snapshots of a dataset group and its solution versions, and an update log that
// keeps every acknowledged update across crashes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tailor/data/dataset_group.hpp"
#include "tailor/export.hpp"
#include "tailor/filters/filter.hpp"
#include "tailor/serving/live_group.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor {

/// When the update log is flushed to stable storage.
enum class SyncPolicy {
  EveryCall,  ///< fsync before every put_* returns (nothing acknowledged is ever lost)
  Interval,   ///< fsync at most every StoreOptions::sync_interval (a crash loses at most that much)
  Off,        ///< leave it to the operating system
};

struct StoreOptions {
  SyncPolicy sync = SyncPolicy::EveryCall;
  std::chrono::milliseconds sync_interval{100};
};

/// Writes a solution version to `path` (temporary file, fsync, atomic rename, directory fsync).
/// @throws tailor::Error(Io) when the write fails; the previous file is then left intact
TAILOR_EXPORT void save_version(const SolutionVersion& version, const std::string& path);
/// Reads a solution version. @throws tailor::Error(Io) for a missing file,
/// Error(ParseError) naming the file for a truncated, corrupted or foreign one,
/// Error(IncompatibleVersion) for a file from an unknown format version
TAILOR_EXPORT SolutionVersion load_version(const std::string& path);

/// A dataset group kept in a directory: `group.snapshot` (the datasets), `updates.log` (put_*
/// calls since the snapshot), `solutions/<name>.version` (the latest version of each solution)
/// and `catalog` (named filters and campaign definitions).
///
/// Every file starts with a header (magic, format version, kind, length) and ends with a checksum;
/// a truncated, corrupted or foreign file is refused with an error naming it. Snapshots are
/// written to a temporary file, fsynced and renamed atomically. put_* calls are logged (and,
/// with SyncPolicy::EveryCall, fsynced) before they are applied and acknowledged; opening a store
/// loads the snapshot and replays the log, dropping a torn last record.
///
/// Thread safety: put_* and reads through group() are safe from any number of threads; import,
/// checkpoint and version saving need external synchronisation with each other.
class TAILOR_EXPORT Store {
 public:
  /// Creates a new store in `dir` (made if missing; must not hold a store already).
  static std::unique_ptr<Store> create(const std::string& dir, DatasetGroup group, StoreOptions options = {});
  /// Opens an existing store. @throws tailor::Error(NotFound, Io, ParseError, IncompatibleVersion)
  static std::unique_ptr<Store> open(const std::string& dir, StoreOptions options = {});
  ~Store();

  const std::string& directory() const { return dir_; }
  const std::shared_ptr<LiveDatasetGroup>& group() const { return group_; }

  /// Bulk import, then a checkpoint (the CSV is not copied into the log).
  ImportReport import_csv(DatasetKind kind, const std::string& path, const ImportOptions& options = {});
  PutReport put_events(const std::vector<EventRecord>& events);
  PutReport put_users(const std::vector<EntityRecord>& users);
  PutReport put_items(const std::vector<EntityRecord>& items);

  /// Writes a new snapshot and empties the log.
  void checkpoint();

  /// Saves `version` as the latest of its solution.
  void save_version(const SolutionVersion& version);
  /// Names of the solutions with a saved version, oldest first.
  std::vector<std::string> solutions() const;
  /// The latest saved version of a solution. @throws tailor::Error(NotFound)
  SolutionVersion load_version(const std::string& solution) const;

  /// Saves a named filter (compiled first, so a bad expression is refused) or replaces it.
  void save_filter(const std::string& name, const std::string& expression);
  /// The saved filters: (name, expression).
  std::vector<std::pair<std::string, std::string>> filters() const;
  /// A saved filter, compiled against the group. @throws tailor::Error(NotFound)
  Filter filter(const std::string& name) const;
  /// Saves a campaign definition: the campaign `name` serves solution `solution`.
  void save_campaign(const std::string& name, const std::string& solution);
  /// The saved campaign definitions: (name, solution).
  std::vector<std::pair<std::string, std::string>> campaigns() const;

  /// Bytes in the update log.
  std::uint64_t log_bytes() const;

 private:
  Store(std::string dir, StoreOptions options);
  struct Log;
  template <typename Apply>
  PutReport logged(std::uint32_t kind, const std::string& payload, Apply&& apply);
  std::string dir_;
  StoreOptions options_;
  std::shared_ptr<LiveDatasetGroup> group_;
  std::unique_ptr<Log> log_;
};

namespace detail {
/// Test hook: the next `n`-th write of bytes to disk fails as if the disk were full (0: never).
TAILOR_EXPORT void fail_writes_after(std::uint64_t bytes);
}  // namespace detail

}  // namespace tailor
