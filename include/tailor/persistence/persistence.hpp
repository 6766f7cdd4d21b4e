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

/// Whether a Store may change its directory.
enum class StoreAccess {
  ReadWrite,  ///< takes the group's writer lock: one such Store per directory at a time
  ReadOnly,   ///< never changes, creates or locks a file; sees the snapshot plus whole log records
};

struct StoreOptions {
  SyncPolicy sync = SyncPolicy::EveryCall;
  std::chrono::milliseconds sync_interval{100};
  StoreAccess access = StoreAccess::ReadWrite;
  /// How long a ReadWrite open() or create() waits for another writer to let go of the group
  /// before it fails with Error(Busy).
  std::chrono::milliseconds lock_wait{30000};
  /// A ReadWrite open() whose update log is longer than this writes a snapshot and starts an
  /// empty log, so that opening never replays without bound (Store::checkpoint() does it at will).
  std::uint64_t checkpoint_log_bytes = std::uint64_t{64} << 20;
  /// Versions kept per solution: saving one more deletes the oldest (never the active one).
  /// Must be at least 1.
  int versions_kept = 5;
};

/// What Store::repair() found and did.
struct RepairReport {
  std::size_t records_replayed = 0;  ///< intact log records kept
  std::size_t bytes_skipped = 0;     ///< damaged bytes of the log that held no intact record
  bool log_replaced = false;         ///< the log was missing or foreign and was started afresh
  std::string damaged_copy;          ///< where the damaged log was copied ("" if it was intact)
  bool changed() const { return log_replaced || !damaged_copy.empty(); }
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
  int training_ranks = 1;  ///< MPI ranks that trained it (1: a single process)
  /// The hyperparameter search that chose its configuration (HpoResult::to_json()), or empty.
  std::string hpo_json = std::string();
};

/// Writes a solution version to `path` (temporary file, fsync, atomic rename, directory fsync).
/// @throws tailor::Error(Io) when the write fails; the previous file is then left intact
TAILOR_EXPORT void save_version(const SolutionVersion& version, const std::string& path);
/// Reads a solution version. @throws tailor::Error(Io) for a missing file,
/// Error(ParseError) naming the file for a truncated, corrupted or foreign one,
/// Error(IncompatibleVersion) for a file from an unknown format version
TAILOR_EXPORT SolutionVersion load_version(const std::string& path);

/// A dataset group kept in a directory: `group.snapshot` (the datasets), `updates.log` (changes
/// since the snapshot), `solutions/<name>/` (the kept versions of each solution), `catalog` (named
/// filters and campaign definitions) and `lock` (who writes).
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
/// a truncated, corrupted or foreign file is refused with an error naming it and the byte offset.
/// Snapshots are written to a temporary file, fsynced and renamed atomically. Changes go through
/// group() — the one write path (LiveDatasetGroup) — which logs them (and, with
/// SyncPolicy::EveryCall, syncs them; concurrent calls share one sync) before they are applied and
/// acknowledged. Opening a store loads the snapshot and replays the log. A torn last record (a
/// crash in the middle of an append) is ignored, and cut off only by a ReadWrite open; damage
/// anywhere else is refused until repair() salvages what is intact.
///
/// Processes: a ReadWrite store holds the directory's writer lock (an flock on `lock`) for its
/// whole life, so there is one writer process at a time; others wait up to
/// StoreOptions::lock_wait. ReadOnly stores never change a file and may run beside the writer.
///
/// Thread safety: every member is safe to call from any number of threads.
class TAILOR_EXPORT Store {
 public:
  /// Creates a new store in `dir`, which must be a new or empty directory; takes the writer lock.
  /// @throws tailor::Error(InvalidArgument) for an empty path or a directory with files in it
  static std::unique_ptr<Store> create(const std::string& dir, DatasetGroup group,
                                       StoreOptions options = {});
  /// Opens an existing store.
  /// @throws tailor::Error(NotFound, Io, ParseError, IncompatibleVersion), Error(Busy) when
  ///         another process writes to the group for longer than options.lock_wait
  static std::unique_ptr<Store> open(const std::string& dir, StoreOptions options = {});
  /// Salvages a store whose update log is damaged: copies the damaged log aside, replays every
  /// intact record, and writes a new snapshot and an empty log. An intact store is left as it was.
  /// @throws tailor::Error(Busy) as open(), Error(ParseError) when the snapshot itself is damaged
  static RepairReport repair(const std::string& dir, StoreOptions options = {});
  ~Store();

  const std::string& directory() const { return dir_; }
  bool read_only() const { return options_.access == StoreAccess::ReadOnly; }
  /// The group: reads, and every change (durable through this store's log). A read-only store's
  /// group refuses changes with Error(InvalidArgument).
  const std::shared_ptr<LiveDatasetGroup>& group() const { return group_; }

  /// group()->import_csv(): bulk import, then a checkpoint (the CSV is not copied into the log).
  ImportReport import_csv(DatasetKind kind, const std::string& path,
                          const ImportOptions& options = {});
  PutReport put_events(const std::vector<EventRecord>& events);
  PutReport put_users(const std::vector<EntityRecord>& users);
  PutReport put_items(const std::vector<EntityRecord>& items);

  /// group()->delete_users(): when it returns, no file of the store holds the users' ids or data
  /// (snapshot and log rewritten, their rows dropped from every stored version).
  DeleteReport delete_users(const std::vector<std::string>& ids);
  /// group()->delete_items(), likewise for items.
  DeleteReport delete_items(const std::vector<std::string>& ids);

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
  /// Deletes a saved filter. @throws tailor::Error(NotFound) when there is none of that name
  void delete_filter(const std::string& name);
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
  class Files;
  Store(std::string dir, StoreOptions options);
  void require_writable(const char* what) const;
  std::string dir_;
  StoreOptions options_;
  std::shared_ptr<Files> files_;
  std::shared_ptr<LiveDatasetGroup> group_;
};

}  // namespace tailor
