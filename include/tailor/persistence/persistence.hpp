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
  /// Versions kept per solution: saving one more deletes the oldest (never the active one).
  /// Must be at least 1.
  int versions_kept = 5;
};

/// What a stored solution version is, readable without loading its model.
struct VersionInfo {
  /// Unique within its solution and never reused: a per-solution counter, zero-padded to six
  /// digits ("000001", "000002", ...), so that ids sort like creation order.
  std::string id;
  std::int64_t created_at = 0;  ///< when it was saved, in seconds since the Unix epoch
  std::string recipe;
  TrainingMode mode = TrainingMode::Full;
  std::optional<RankingMetrics> metrics;  ///< absent when trained without metrics
  double training_seconds = 0;
};

/// Writes a solution version to `path` (temporary file, fsync, atomic rename, directory fsync).
/// @throws tailor::Error(Io) when the write fails; the previous file is then left intact
TAILOR_EXPORT void save_version(const SolutionVersion& version, const std::string& path);
/// Reads a solution version. @throws tailor::Error(Io) for a missing file,
/// Error(ParseError) naming the file for a truncated, corrupted or foreign one,
/// Error(IncompatibleVersion) for a file from an unknown format version
TAILOR_EXPORT SolutionVersion load_version(const std::string& path);

/// A dataset group kept in a directory: `group.snapshot` (the datasets), `updates.log` (put_*
/// calls since the snapshot), `solutions/<name>/` (the kept versions of each solution) and
/// `catalog` (named filters and campaign definitions).
///
/// A solution's directory holds `<id>.version` per kept version and `index`: the versions'
/// metadata (VersionInfo), the active id and the next id, so that listing versions never loads a
/// model. A version file is written before the index that names it, and the index atomically, so a
/// crash leaves either the old list or the new one; files the index does not name are leftovers of
/// such a crash and are deleted by the next save. A store written before versions were kept holds
/// `solutions/<name>.version` instead: it reads as one version "000001", and the next save or
/// activation of that solution moves it into the directory layout.
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

  /// Saves `version` as a new version of its solution, makes it the active one and deletes the
  /// oldest versions beyond StoreOptions::versions_kept. @return the new version's id
  /// @throws tailor::Error(InvalidArgument) for a bad solution name or versions_kept below 1,
  ///         Error(Io) when a write fails (the solution is then unchanged)
  std::string save_version(const SolutionVersion& version);
  /// Names of the solutions with a saved version, in name order.
  std::vector<std::string> solutions() const;
  /// The kept versions of a solution, oldest first. @throws tailor::Error(NotFound)
  std::vector<VersionInfo> versions(const std::string& solution) const;
  /// The id of the version a solution serves. @throws tailor::Error(NotFound)
  std::string active_version(const std::string& solution) const;
  /// Makes a kept version the active one (a roll back or forward).
  /// @throws tailor::Error(NotFound) for an unknown solution or version
  void activate(const std::string& solution, const std::string& id);
  /// The active version of a solution. @throws tailor::Error(NotFound)
  SolutionVersion load_version(const std::string& solution) const;
  /// A kept version of a solution. @throws tailor::Error(NotFound)
  SolutionVersion load_version(const std::string& solution, const std::string& id) const;
  /// The path of every stored version file, of every solution (for rewriting them all).
  std::vector<std::string> version_files() const;

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
