// SPDX-License-Identifier: MIT
// The store: its journal (the writer lock, the update log with group commit, checkpoints),
// creating, opening and repairing it, puts and deletions, and its filters and campaigns. The files
// it writes are described in files.cpp and update_log.cpp, solution versions in store_versions.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <optional>

#include "persistence/files.hpp"
#include "persistence/serialize.hpp"
#include "persistence/store_versions.hpp"
#include "persistence/update_log.hpp"
#include "tailor/error.hpp"
#include "tailor/persistence/persistence.hpp"

namespace tailor {

using detail::catalog_path;
using detail::check_log;
using detail::frame;
using detail::io_error;
using detail::kKindCatalog;
using detail::kKindSnapshot;
using detail::kLogFormatVersion;
using detail::log_path;
using detail::LogContents;
using detail::LogRecord;
using detail::read_file;
using detail::read_log;
using detail::replay;
using detail::snapshot_path;
using detail::solutions_dir;
using detail::unframe;
using detail::valid_solution_name;
using detail::write_atomic;

namespace {

detail::Catalog read_catalog(const std::string& dir) {
  const std::string path = catalog_path(dir);
  if (!std::filesystem::exists(path)) return {};
  return detail::deserialize_catalog(unframe(read_file(path), kKindCatalog, path), path);
}

void put_pair(std::vector<std::pair<std::string, std::string>>& pairs, const std::string& key,
              const std::string& value) {
  for (auto& p : pairs) {
    if (p.first == key) {
      p.second = value;
      return;
    }
  }
  pairs.emplace_back(key, value);
}

}  // namespace

// The store's files and its journal: the writer lock, the update log with group commit, and
// checkpoints. Appends and checkpoints run under the group's writer lock; syncs outside it.
class Store::Files : public detail::Journal {
 public:
  Files(std::string dir, StoreOptions options) : dir_(std::move(dir)), options_(options) {}
  ~Files() override {
    if (fd_ >= 0) ::close(fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);  // lets go of the writer lock
  }

  bool writable() const { return options_.access == StoreAccess::ReadWrite; }
  void lock() { lock_fd_ = detail::acquire_writer_lock(dir_, options_.lock_wait); }

  std::uint64_t append_events(const std::vector<EventRecord>& records,
                              const std::vector<std::size_t>& positions) override {
    std::vector<EventRecord> accepted;
    accepted.reserve(positions.size());
    for (std::size_t p : positions) accepted.push_back(records[p]);
    return append(detail::kRecordEvents, detail::serialize_events(accepted));
  }

  std::uint64_t append_entities(DatasetKind kind, const std::vector<EntityRecord>& records,
                                const std::vector<std::size_t>& positions) override {
    std::vector<EntityRecord> accepted;
    accepted.reserve(positions.size());
    for (std::size_t p : positions) accepted.push_back(records[p]);
    return append(kind == DatasetKind::Users ? detail::kRecordUsers : detail::kRecordItems,
                  detail::serialize_entities(accepted));
  }

  void wait_durable(std::uint64_t sequence) override {
    if (options_.sync == SyncPolicy::Off) return;
    std::unique_lock<std::mutex> lock(sync_mutex_);
    if (options_.sync == SyncPolicy::Interval &&
        std::chrono::steady_clock::now() - last_sync_ < options_.sync_interval) {
      return;
    }
    // Group commit: one caller syncs everything written so far; the others wait for it.
    while (synced_ < sequence) {
      TAILOR_THROW_IF(failed_, ErrorCode::Io, log_path(dir_),
                      ": an earlier write or sync failed; reopen the store");
      if (syncing_) {
        synced_cv_.wait(lock);
        continue;
      }
      syncing_ = true;
      const std::uint64_t target = written_;
      const int fd = fd_;
      lock.unlock();
      const int rc = ::fdatasync(fd);
      const int error = errno;
      lock.lock();
      syncing_ = false;
      if (rc != 0)
        failed_ = true;
      else
        synced_ = std::max(synced_, target);
      last_sync_ = std::chrono::steady_clock::now();
      synced_cv_.notify_all();
      errno = error;
      TAILOR_THROW_IF(rc != 0, ErrorCode::Io, io_error("cannot sync", log_path(dir_)));
    }
  }

  void checkpoint(const DatasetGroup& group) override {
    require_writable();
    std::unique_lock<std::mutex> lock(sync_mutex_);
    synced_cv_.wait(lock, [&] { return !syncing_; });
    // The log first: it must hold every record the snapshot will say it holds.
    if (fd_ >= 0) {
      TAILOR_THROW_IF(::fdatasync(fd_) != 0, ErrorCode::Io,
                      io_error("cannot sync", log_path(dir_)));
    }
    synced_ = written_;
    // A store from before group ids gets one now, in the snapshot and the log alike.
    const bool new_id = group_id_.empty();
    if (new_id) group_id_ = detail::new_group_id();
    const std::uint64_t last = next_sequence_ - 1;
    detail::write_group_snapshot(snapshot_path(dir_), group, {last, group_id_});
    // A crash here leaves the old log beside the new snapshot: the next open skips the records
    // the snapshot holds and starts a new log. A log that already holds nothing after `last`
    // (as after a bulk import, which is not logged) is the new log, byte for byte: kept.
    if (!new_id && empty_log_base_ == last) return;
    reset_log(last);
  }

  // The log file is empty_log(group id, base) exactly, with nothing appended since.
  void log_is_empty_after(std::uint64_t base) { empty_log_base_ = base; }

  void forget(const std::vector<Index>& users, const std::vector<Index>& items) override;
  void check_forgettable() override;

  // Opens the log for appending after `valid_bytes` (a torn tail beyond them is cut off).
  void open_log(std::size_t valid_bytes, std::uint64_t next_sequence) {
    const std::string path = log_path(dir_);
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    TAILOR_THROW_IF(fd_ < 0, ErrorCode::Io, io_error("cannot open", path));
    TAILOR_THROW_IF(::ftruncate(fd_, static_cast<off_t>(valid_bytes)) != 0, ErrorCode::Io,
                    io_error("cannot drop the torn last record of", path));
    bytes_ = valid_bytes;
    next_sequence_ = next_sequence;
    written_ = synced_ = next_sequence - 1;
    empty_log_base_.reset();
  }

  void set_group_id(std::string id) { group_id_ = std::move(id); }
  void set_next_sequence(std::uint64_t next) {
    next_sequence_ = next;
    written_ = synced_ = next - 1;
  }
  std::uint64_t log_bytes() const { return bytes_; }

  void check_writable() const override { require_writable(); }

  void require_writable() const {
    TAILOR_THROW_IF(!writable(), ErrorCode::InvalidArgument, "the dataset group ", dir_,
                    " was opened read-only: it cannot be changed through this store");
  }

 private:
  std::uint64_t append(std::uint32_t kind, const std::string& payload) {
    require_writable();
    TAILOR_THROW_IF(failed_, ErrorCode::Io, log_path(dir_),
                    ": an earlier write or sync failed; reopen the store");
    const std::string record = detail::log_record(kind, next_sequence_, payload);
    empty_log_base_.reset();
    try {
      detail::write_all(fd_, record, log_path(dir_));
    } catch (...) {
      // Cut the partial record off, so that the log stays a sequence of whole records.
      if (::ftruncate(fd_, static_cast<off_t>(bytes_.load())) != 0) failed_ = true;
      throw;
    }
    bytes_ += record.size();
    std::lock_guard<std::mutex> lock(sync_mutex_);
    written_ = next_sequence_;
    return next_sequence_++;
  }

  // Starts an empty log after a snapshot that holds every record up to `base`.
  void reset_log(std::uint64_t base) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    const std::string bytes = detail::empty_log(group_id_, base);
    write_atomic(log_path(dir_), bytes);
    open_log(bytes.size(), base + 1);
    empty_log_base_ = base;
  }

  std::string dir_;
  StoreOptions options_;
  int lock_fd_ = -1;
  int fd_ = -1;
  std::string group_id_;
  std::uint64_t next_sequence_ = 1;
  std::atomic<std::uint64_t> bytes_{0};
  std::mutex sync_mutex_;
  std::condition_variable synced_cv_;
  std::uint64_t written_ = 0;  // last sequence written to the file
  std::uint64_t synced_ = 0;   // last sequence known to be on stable storage
  bool syncing_ = false;
  bool failed_ = false;
  std::optional<std::uint64_t> empty_log_base_;  // set while the log is an empty one from base
  std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
};

Store::Store(std::string dir, StoreOptions options) : dir_(std::move(dir)), options_(options) {}
Store::~Store() = default;

std::unique_ptr<Store> Store::create(const std::string& dir, DatasetGroup group,
                                     StoreOptions options) {
  // A new or empty directory only: an empty path once put the group's files under "/", and a
  // store written among other files would mix with them.
  TAILOR_THROW_IF(dir.empty(), ErrorCode::InvalidArgument,
                  "a dataset group needs a directory (the path is empty)");
  TAILOR_THROW_IF(options.access != StoreAccess::ReadWrite, ErrorCode::InvalidArgument,
                  "a store is created read-write");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    TAILOR_THROW_IF(!std::filesystem::is_directory(dir, ec), ErrorCode::InvalidArgument, dir,
                    " exists and is not a directory");
    TAILOR_THROW_IF(!std::filesystem::is_empty(dir, ec), ErrorCode::InvalidArgument, dir,
                    " is not empty: a dataset group is created in a new or empty directory");
  }
  std::filesystem::create_directories(solutions_dir(dir), ec);
  TAILOR_THROW_IF(ec, ErrorCode::Io, "cannot create directory ", dir, ": ", ec.message());
  std::unique_ptr<Store> store(new Store(dir, options));
  store->files_ = std::make_shared<Files>(dir, options);
  store->files_->lock();
  store->files_->checkpoint(group);  // a new group id, the snapshot, then an empty log
  store->group_ = std::make_shared<LiveDatasetGroup>(std::move(group), store->files_);
  return store;
}

std::unique_ptr<Store> Store::open(const std::string& dir, StoreOptions options) {
  TAILOR_THROW_IF(!std::filesystem::exists(snapshot_path(dir)), ErrorCode::NotFound, dir,
                  " is not a tailor store (no group.snapshot)");
  std::unique_ptr<Store> store(new Store(dir, options));
  store->files_ = std::make_shared<Files>(dir, options);
  Files& files = *store->files_;
  if (files.writable()) files.lock();
  const std::string path = snapshot_path(dir), log_file = log_path(dir);
  for (int attempt = 0;; ++attempt) {
    // The log before the snapshot: a checkpoint renames the new snapshot into place before it
    // starts the next log, so the snapshot read second holds at least what the log's header says
    // came before it, and the log read first holds every record up to that snapshot unless a
    // second checkpoint ran in between (a reader then reads both again).
    const bool has_log = std::filesystem::exists(log_file);
    const std::string log_bytes = has_log ? read_file(log_file) : std::string();
    detail::SnapshotMeta meta;
    DatasetGroup group =
        detail::deserialize_group(unframe(read_file(path), kKindSnapshot, path), meta, path);
    TAILOR_THROW_IF(!has_log, ErrorCode::ParseError, log_file,
                    ": missing (group.snapshot holds records up to ", meta.last_sequence,
                    "); `tailor repair` starts a new log");
    const LogContents log = read_log(log_bytes, log_file);
    const std::uint64_t log_last = log.records.empty() ? log.base : log.records.back().sequence;
    if (!files.writable() && log.format >= 2 && log.group_id == meta.group_id &&
        log_last < meta.last_sequence && attempt < 20) {
      continue;
    }
    check_log(log, meta, log_file);
    const std::uint64_t last = replay(group, log.records, meta.last_sequence, log_file);
    files.set_group_id(meta.group_id);
    if (files.writable()) {
      files.open_log(log.valid_bytes, last + 1);
      if (log.records.empty() &&
          log_bytes.compare(0, log.valid_bytes, detail::empty_log(meta.group_id, log.base)) == 0)
        files.log_is_empty_after(log.base);
      // A format-1 log, one left beside a newer snapshot by a crash, or one grown long enough to
      // slow every open down, is replaced by a checkpoint.
      if (log.format < 2 || log.base < meta.last_sequence ||
          log.valid_bytes > options.checkpoint_log_bytes) {
        files.checkpoint(group);
      }
    } else {
      files.set_next_sequence(last + 1);
    }
    store->group_ = std::make_shared<LiveDatasetGroup>(std::move(group), store->files_);
    return store;
  }
}

RepairReport Store::repair(const std::string& dir, StoreOptions options) {
  options.access = StoreAccess::ReadWrite;
  TAILOR_THROW_IF(!std::filesystem::exists(snapshot_path(dir)), ErrorCode::NotFound, dir,
                  " is not a tailor store (no group.snapshot)");
  Files files(dir, options);
  files.lock();
  const std::string path = snapshot_path(dir), log_file = log_path(dir);
  detail::SnapshotMeta meta;
  // Without an intact snapshot there is nothing to repair from.
  DatasetGroup group =
      detail::deserialize_group(unframe(read_file(path), kKindSnapshot, path), meta, path);
  RepairReport report;
  if (std::filesystem::exists(log_file)) {
    const std::string bytes = read_file(log_file);
    try {
      check_log(read_log(bytes, log_file), meta, log_file);
      return report;  // intact (a torn last record is cut off by the next open)
    } catch (const Error&) {
      // Salvage below.
    }
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    report.damaged_copy = log_file + ".damaged-" + stamp;
    write_atomic(report.damaged_copy, bytes);
    LogContents log;
    std::size_t pos = 0;
    try {
      detail::read_log_header(bytes, log_file, log);
      pos = log.header_bytes;
    } catch (const Error&) {
      log.format = kLogFormatVersion;  // a damaged header: look for records of the current format
      log.group_id = meta.group_id;
    }
    if (log.group_id != meta.group_id) {
      report.log_replaced = true;  // another group's records are not this group's to replay
    } else {
      const std::vector<LogRecord> found =
          detail::salvage_records(bytes, pos, log.format, report.bytes_skipped);
      std::uint64_t last = meta.last_sequence;
      for (const LogRecord& r : found) {
        if (r.sequence <= last) continue;  // held by the snapshot, or a duplicate
        try {
          last = replay(group, {r}, last, log_file);
          ++report.records_replayed;
        } catch (const Error&) {
          // An intact frame around a payload this tailor cannot read: left in the damaged copy.
        }
      }
      meta.last_sequence = last;
    }
  } else {
    report.log_replaced = true;
  }
  files.set_group_id(meta.group_id);
  files.set_next_sequence(meta.last_sequence + 1);
  files.checkpoint(group);
  return report;
}

void Store::require_writable(const char* what) const {
  TAILOR_THROW_IF(read_only(), ErrorCode::InvalidArgument, "cannot ", what, ": the dataset group ",
                  dir_, " was opened read-only");
}

void Store::checkpoint() {
  require_writable("checkpoint");
  group_->checkpoint();
}

PutReport Store::put_events(const std::vector<EventRecord>& events) {
  return group_->put_events(events);
}
PutReport Store::put_users(const std::vector<EntityRecord>& users) {
  return group_->put_users(users);
}
PutReport Store::put_items(const std::vector<EntityRecord>& items) {
  return group_->put_items(items);
}

ImportReport Store::import_csv(DatasetKind kind, const std::string& path,
                               const ImportOptions& options) {
  require_writable("import");
  return group_->import_csv(kind, path, options);
}

void Store::Files::forget(const std::vector<Index>& users, const std::vector<Index>& items) {
  require_writable();
  detail::forget_in_versions(dir_, users, items);
  // Copies of damaged logs kept by repair() may hold the deleted ids: they go too.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().rfind("updates.log.damaged-", 0) == 0) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

void Store::Files::check_forgettable() {
  require_writable();
  detail::check_versions_forgettable(dir_);
}

DeleteReport Store::delete_users(const std::vector<std::string>& ids) {
  require_writable("delete users");
  return group_->delete_users(ids);
}

DeleteReport Store::delete_items(const std::vector<std::string>& ids) {
  require_writable("delete items");
  return group_->delete_items(ids);
}

void Store::save_filter(const std::string& name, const std::string& expression) {
  require_writable("save a filter");
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::InvalidArgument, "filter name \"", name,
                  "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  group_->read(
      [&](const DatasetGroup& g) { return Filter::compile(expression, g); });  // refuse a bad one
  detail::Catalog catalog = read_catalog(dir_);
  put_pair(catalog.filters, name, expression);
  write_atomic(catalog_path(dir_), frame(kKindCatalog, detail::serialize_catalog(catalog)));
}

void Store::delete_filter(const std::string& name) {
  require_writable("delete a filter");
  detail::Catalog catalog = read_catalog(dir_);
  const auto at = std::find_if(catalog.filters.begin(), catalog.filters.end(),
                               [&](const auto& p) { return p.first == name; });
  TAILOR_THROW_IF(at == catalog.filters.end(), ErrorCode::NotFound, "no filter named \"", name,
                  "\" in ", dir_);
  catalog.filters.erase(at);
  write_atomic(catalog_path(dir_), frame(kKindCatalog, detail::serialize_catalog(catalog)));
}

std::vector<std::pair<std::string, std::string>> Store::filters() const {
  return read_catalog(dir_).filters;
}

Filter Store::filter(const std::string& name) const {
  for (const auto& saved : read_catalog(dir_).filters) {
    // `saved.second`, not a structured binding: clang before 16 refuses one in a lambda.
    const std::string& expression = saved.second;
    if (saved.first == name)
      return group_->read([&](const DatasetGroup& g) { return Filter::compile(expression, g); });
  }
  TAILOR_THROW(ErrorCode::NotFound, "no filter named \"", name, "\" in ", dir_);
}

void Store::save_campaign(const std::string& name, const std::string& solution) {
  require_writable("save a campaign");
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::InvalidArgument, "campaign name \"", name,
                  "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  load_version(solution);  // the solution must exist
  detail::Catalog catalog = read_catalog(dir_);
  put_pair(catalog.campaigns, name, solution);
  write_atomic(catalog_path(dir_), frame(kKindCatalog, detail::serialize_catalog(catalog)));
}

std::vector<std::pair<std::string, std::string>> Store::campaigns() const {
  return read_catalog(dir_).campaigns;
}

std::uint64_t Store::log_bytes() const { return files_->log_bytes(); }

}  // namespace tailor
