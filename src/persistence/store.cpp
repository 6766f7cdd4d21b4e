// SPDX-License-Identifier: MIT
// Files on disk: framed and checksummed snapshots written atomically, and the update log.
//
// File frame: magic "TAILOR\x00\x01" | format version u32 | kind u32 | payload length u64 |
//             payload | checksum u64 (of everything before it).
// Update log: a frame whose payload is the store's group id (32 characters) and the sequence of
//             the last record the snapshot held when the log was started (u64), then records:
//             record magic u32 | kind u32 | sequence u64 | payload length u64 |
//             header checksum u64 (of the 24 bytes before it) | payload |
//             checksum u64 (of the record before it).
//             Format 1 logs have an empty frame payload and records without a header checksum.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "persistence/fault_injection.hpp"
#include "persistence/serialize.hpp"
#include "tailor/error.hpp"
#include "tailor/persistence/persistence.hpp"

namespace tailor {

namespace detail {
namespace {
std::atomic<std::uint64_t> g_fail_after{0};  // bytes until a simulated full disk; 0 = off
}  // namespace

void fail_writes_after(std::uint64_t bytes) { g_fail_after = bytes; }
}  // namespace detail

namespace {

constexpr char kMagic[8] = {'T', 'A', 'I', 'L', 'O', 'R', '\0', '\1'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint32_t kLogFormatVersion = 2;  // the update log's; other files are at 1
constexpr std::uint32_t kKindSnapshot = 1, kKindVersion = 2, kKindLog = 3, kKindCatalog = 4;
constexpr std::uint32_t kRecordMagic = 0x54524543;  // "TREC"
constexpr std::size_t kGroupIdSize = 32;
constexpr std::uint32_t kRecordEvents = 1, kRecordUsers = 2, kRecordItems = 3;
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8;
constexpr std::size_t kRecordHeaderSize = 4 + 4 + 8 + 8;  // + 8 (header checksum) in format 2

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
template <typename T>
T get(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

std::uint64_t checksum(std::string_view bytes) { return IdMap::hash(bytes); }

std::string io_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// write(2) all of `bytes`, honouring the simulated full disk.
void write_all(int fd, std::string_view bytes, const std::string& path) {
  std::uint64_t limit = detail::g_fail_after.load();
  std::size_t to_write = bytes.size();
  bool simulate = false;
  if (limit != 0) {
    if (bytes.size() >= limit) {
      to_write = static_cast<std::size_t>(limit - 1);
      simulate = true;
      detail::g_fail_after = 0;
    } else {
      detail::g_fail_after = limit - bytes.size();
    }
  }
  std::size_t done = 0;
  while (done < to_write) {
    const ssize_t n = ::write(fd, bytes.data() + done, to_write - done);
    if (n < 0 && errno == EINTR) continue;
    TAILOR_THROW_IF(n < 0, ErrorCode::Io, io_error("cannot write", path));
    done += static_cast<std::size_t>(n);
  }
  if (simulate) {
    errno = ENOSPC;
    TAILOR_THROW(ErrorCode::Io, io_error("cannot write", path));
  }
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  TAILOR_THROW_IF(fd < 0, ErrorCode::Io, io_error("cannot open directory", dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  TAILOR_THROW_IF(rc != 0, ErrorCode::Io, io_error("cannot sync directory", dir));
}

std::string frame(std::uint32_t kind, const std::string& payload) {
  std::string out(kMagic, sizeof kMagic);
  put(out, kind == kKindLog ? kLogFormatVersion : kFormatVersion);
  put(out, kind);
  put<std::uint64_t>(out, payload.size());
  out += payload;
  put(out, checksum(out));
  return out;
}

// Temporary file, fsync, atomic rename, directory fsync: the old file survives any failure.
void write_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TAILOR_THROW_IF(fd < 0, ErrorCode::Io, io_error("cannot create", tmp));
  try {
    write_all(fd, bytes, tmp);
    TAILOR_THROW_IF(::fsync(fd) != 0, ErrorCode::Io, io_error("cannot sync", tmp));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  TAILOR_THROW_IF(::rename(tmp.c_str(), path.c_str()) != 0, ErrorCode::Io,
                  io_error("cannot rename to", path));
  sync_directory(std::filesystem::path(path).parent_path().string());
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TAILOR_THROW_IF(fd < 0, errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io,
                  io_error("cannot open", path));
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      TAILOR_THROW(ErrorCode::Io, io_error("cannot read", path));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

// The payload of a framed file, after checking magic, version, kind, length and checksum.
// `format` receives the file's format version.
std::string unframe(const std::string& bytes, std::uint32_t kind, const std::string& path,
                    std::uint32_t* format = nullptr) {
  TAILOR_THROW_IF(
      bytes.size() < kHeaderSize + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0,
      ErrorCode::ParseError, path, ": not a tailor file (bad magic or too short)");
  const auto version = get<std::uint32_t>(bytes.data() + 8);
  const std::uint32_t newest = kind == kKindLog ? kLogFormatVersion : kFormatVersion;
  TAILOR_THROW_IF(version < 1 || version > newest, ErrorCode::IncompatibleVersion, path,
                  ": format version ", version, ", this tailor reads versions 1 to ", newest);
  const auto found = get<std::uint32_t>(bytes.data() + 12);
  TAILOR_THROW_IF(found != kind, ErrorCode::ParseError, path, ": holds file kind ", found,
                  ", expected ", kind);
  const auto length = get<std::uint64_t>(bytes.data() + 16);
  TAILOR_THROW_IF(length != bytes.size() - kHeaderSize - 8, ErrorCode::ParseError, path,
                  ": truncated or padded (header says ", length, " payload bytes, file holds ",
                  bytes.size() - kHeaderSize - 8, ")");
  const auto stored = get<std::uint64_t>(bytes.data() + bytes.size() - 8);
  TAILOR_THROW_IF(stored != checksum(std::string_view(bytes.data(), bytes.size() - 8)),
                  ErrorCode::ParseError, path, ": checksum mismatch (the file is corrupted)");
  if (format) *format = version;
  return bytes.substr(kHeaderSize, length);
}

std::string snapshot_path(const std::string& dir) { return dir + "/group.snapshot"; }
std::string log_path(const std::string& dir) { return dir + "/updates.log"; }
std::string solutions_dir(const std::string& dir) { return dir + "/solutions"; }
std::string catalog_path(const std::string& dir) { return dir + "/catalog"; }
std::string lock_path(const std::string& dir) { return dir + "/lock"; }

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

bool valid_solution_name(const std::string& name) {
  return !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

void save_version(const SolutionVersion& version, const std::string& path) {
  write_atomic(path, frame(kKindVersion, detail::serialize_version(version)));
}

SolutionVersion load_version(const std::string& path) {
  return detail::deserialize_version(unframe(read_file(path), kKindVersion, path), path);
}

namespace {

// ---- The update log on disk ----

struct LogRecord {
  std::uint32_t kind = 0;
  std::uint64_t sequence = 0;
  std::size_t offset = 0;  // byte where the record starts
  std::string payload;
};

// A log file as read: its header, its whole records, and where they end.
struct LogContents {
  std::uint32_t format = 0;
  std::string group_id;
  std::uint64_t base = 0;  // the snapshot's last sequence when the log was started (format 2)
  std::size_t header_bytes = 0;
  std::vector<LogRecord> records;
  std::size_t valid_bytes = 0;  // header and whole records; more bytes are a torn last record
};

// Reads the log's header frame into `out`.
void read_log_header(const std::string& bytes, const std::string& path, LogContents& out) {
  TAILOR_THROW_IF(bytes.size() < kHeaderSize, ErrorCode::ParseError, path, ": not a tailor log (",
                  bytes.size(), " bytes, shorter than a header)");
  const auto length = get<std::uint64_t>(bytes.data() + 16);
  TAILOR_THROW_IF(length != 0 && length != kGroupIdSize + 8, ErrorCode::ParseError, path,
                  ": damaged header at byte 16 (a header payload of ", length, " bytes)");
  const std::size_t size = kHeaderSize + static_cast<std::size_t>(length) + 8;
  TAILOR_THROW_IF(bytes.size() < size, ErrorCode::ParseError, path,
                  ": not a tailor log (header truncated)");
  // Said here rather than by unframe(), to name where the damage is and what salvages the records.
  TAILOR_THROW_IF(std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0 &&
                      get<std::uint64_t>(bytes.data() + size - 8) !=
                          checksum(std::string_view(bytes.data(), size - 8)),
                  ErrorCode::ParseError, path, ": damaged header at byte 0 (checksum mismatch); ",
                  "`tailor repair` salvages the records after it");
  const std::string payload = unframe(bytes.substr(0, size), kKindLog, path, &out.format);
  TAILOR_THROW_IF((out.format >= 2) != (length != 0), ErrorCode::ParseError, path,
                  ": damaged header at byte 16 (its length does not match format ", out.format,
                  ")");
  if (length != 0) {
    out.group_id = payload.substr(0, kGroupIdSize);
    out.base = get<std::uint64_t>(payload.data() + kGroupIdSize);
  }
  out.header_bytes = size;
}

std::size_t record_header_size(std::uint32_t format) {
  return format >= 2 ? kRecordHeaderSize + 8 : kRecordHeaderSize;
}

// Whether a whole, intact record starts at `pos`; then `size` is its size in bytes. Every length
// is checked against the bytes that are there before it is used.
bool intact_record(const std::string& bytes, std::size_t pos, std::uint32_t format,
                   std::size_t& size) {
  const std::size_t head = record_header_size(format);
  if (pos > bytes.size() || bytes.size() - pos < head + 8) return false;
  const char* p = bytes.data() + pos;
  if (get<std::uint32_t>(p) != kRecordMagic) return false;
  if (format >= 2 && get<std::uint64_t>(p + kRecordHeaderSize) !=
                         checksum(std::string_view(p, kRecordHeaderSize))) {
    return false;
  }
  const auto length = get<std::uint64_t>(p + 16);
  if (length > bytes.size() - pos - head - 8) return false;
  const std::size_t body = head + static_cast<std::size_t>(length);
  if (get<std::uint64_t>(p + body) != checksum(std::string_view(p, body))) return false;
  size = body + 8;
  return true;
}

LogRecord record_at(const std::string& bytes, std::size_t pos, std::uint32_t format,
                    std::size_t size) {
  const char* p = bytes.data() + pos;
  const std::size_t head = record_header_size(format);
  return {get<std::uint32_t>(p + 4), get<std::uint64_t>(p + 8), pos,
          std::string(p + head, size - head - 8)};
}

// The first intact record at or after `from`, or npos.
std::size_t next_intact_record(const std::string& bytes, std::size_t from, std::uint32_t format) {
  std::size_t size = 0;
  for (std::size_t pos = from; pos < bytes.size(); ++pos) {
    if (intact_record(bytes, pos, format, size)) return pos;
  }
  return std::string::npos;
}

// Reads a log strictly: whole records up to a torn last record (which only a crash in the middle
// of an append leaves: nothing intact follows it). Damage before the end is refused.
LogContents read_log(const std::string& bytes, const std::string& path) {
  LogContents log;
  read_log_header(bytes, path, log);
  std::size_t pos = log.header_bytes;
  while (pos < bytes.size()) {
    std::size_t size = 0;
    if (!intact_record(bytes, pos, log.format, size)) {
      const std::size_t next = next_intact_record(bytes, pos + 1, log.format);
      TAILOR_THROW_IF(next != std::string::npos, ErrorCode::ParseError, path,
                      ": damaged record at byte ", pos, " (intact records follow from byte ", next,
                      "); `tailor repair` salvages them");
      break;  // torn: the last record is incomplete
    }
    log.records.push_back(record_at(bytes, pos, log.format, size));
    pos += size;
  }
  log.valid_bytes = pos;
  return log;
}

// Checks that a log continues the snapshot: the same group, consecutive sequences, and nothing
// missing between the snapshot's last record and the log's first.
void check_log(const LogContents& log, const detail::SnapshotMeta& snapshot,
               const std::string& path) {
  TAILOR_THROW_IF(log.group_id != snapshot.group_id, ErrorCode::ParseError, path,
                  ": belongs to another dataset group (group id \"", log.group_id,
                  "\", the snapshot's is \"", snapshot.group_id, "\")");
  TAILOR_THROW_IF(log.format >= 2 && log.base > snapshot.last_sequence, ErrorCode::ParseError, path,
                  ": starts after record ", log.base,
                  " but group.snapshot holds records only up to ", snapshot.last_sequence,
                  " (records are missing)");
  std::uint64_t expected = log.format >= 2 ? log.base + 1 : 0;
  for (const LogRecord& r : log.records) {
    TAILOR_THROW_IF(expected != 0 && r.sequence != expected, ErrorCode::ParseError, path,
                    ": the record at byte ", r.offset, " has sequence ", r.sequence, ", expected ",
                    expected, " (the log is damaged)");
    expected = r.sequence + 1;
  }
  const std::uint64_t last = log.records.empty()
                                 ? (log.format >= 2 ? log.base : snapshot.last_sequence)
                                 : log.records.back().sequence;
  TAILOR_THROW_IF(last < snapshot.last_sequence, ErrorCode::ParseError, path, ": ends at record ",
                  last, " but group.snapshot holds records up to ", snapshot.last_sequence,
                  " (the log is too short)");
}

// Applies the records the snapshot does not hold yet. Returns the last sequence applied or held.
std::uint64_t replay(DatasetGroup& group, const std::vector<LogRecord>& records, std::uint64_t last,
                     const std::string& path) {
  for (const LogRecord& r : records) {
    if (r.sequence <= last) continue;  // in the snapshot already (a crash before the log was reset)
    // A record holds only accepted records, so replaying it repeats exactly their effect.
    switch (r.kind) {
      case kRecordEvents:
        group.put_events(detail::deserialize_events(r.payload, path));
        break;
      case kRecordUsers:
        group.put_users(detail::deserialize_entities(r.payload, path));
        break;
      case kRecordItems:
        group.put_items(detail::deserialize_entities(r.payload, path));
        break;
      default:
        TAILOR_THROW(ErrorCode::ParseError, path, ": unknown record kind ", r.kind, " at byte ",
                     r.offset);
    }
    last = r.sequence;
  }
  return last;
}

std::string new_group_id() {
  std::random_device device;  // an identity, not a model choice: it must differ between groups
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (std::size_t i = 0; i < kGroupIdSize; ++i) id.push_back(kHex[device() % 16]);
  return id;
}

// Takes the directory's writer lock, waiting up to `wait`; returns the lock file's descriptor
// (closing it lets go). The holder's pid is written into the file for the next one's message.
int acquire_writer_lock(const std::string& dir, std::chrono::milliseconds wait) {
  const std::string path = lock_path(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  TAILOR_THROW_IF(fd < 0, ErrorCode::Io, io_error("cannot open", path));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const std::string message = io_error("cannot lock", path);
      ::close(fd);
      TAILOR_THROW(ErrorCode::Io, message);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      char holder[32] = {};
      const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
      ::close(fd);
      const std::string pid = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "unknown";
      TAILOR_THROW(ErrorCode::Busy, "group ", dir, " is busy (held by pid ",
                   pid.substr(0, pid.find('\n')), ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Written over the old pid, then cut to length: a waiting writer reading meanwhile finds a whole
  // pid up to the first newline, never an empty file.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()) ||
      ::ftruncate(fd, static_cast<off_t>(pid.size())) != 0) {
    // The pid only improves another writer's message; the lock itself is held.
  }
  return fd;
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
  void lock() { lock_fd_ = acquire_writer_lock(dir_, options_.lock_wait); }

  std::uint64_t append_events(const std::vector<EventRecord>& records,
                              const std::vector<std::size_t>& positions) override {
    std::vector<EventRecord> accepted;
    accepted.reserve(positions.size());
    for (std::size_t p : positions) accepted.push_back(records[p]);
    return append(kRecordEvents, detail::serialize_events(accepted));
  }

  std::uint64_t append_entities(DatasetKind kind, const std::vector<EntityRecord>& records,
                                const std::vector<std::size_t>& positions) override {
    std::vector<EntityRecord> accepted;
    accepted.reserve(positions.size());
    for (std::size_t p : positions) accepted.push_back(records[p]);
    return append(kind == DatasetKind::Users ? kRecordUsers : kRecordItems,
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
    if (group_id_.empty()) group_id_ = new_group_id();
    const std::uint64_t last = next_sequence_ - 1;
    const std::string bytes = detail::serialize_group(group, {last, group_id_});
    write_atomic(snapshot_path(dir_), frame(kKindSnapshot, bytes));
    // A crash here leaves the old log beside the new snapshot: the next open skips the records
    // the snapshot holds and starts a new log.
    reset_log(last);
  }

  void forget(const std::vector<Index>& users, const std::vector<Index>& items) override;

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
    std::string record;
    put(record, kRecordMagic);
    put(record, kind);
    put(record, next_sequence_);
    put<std::uint64_t>(record, payload.size());
    put(record, checksum(record));
    record += payload;
    put(record, checksum(record));
    try {
      write_all(fd_, record, log_path(dir_));
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
    std::string header = group_id_;
    header.resize(kGroupIdSize, '0');
    put(header, base);
    const std::string bytes = frame(kKindLog, header);
    write_atomic(log_path(dir_), bytes);
    open_log(bytes.size(), base + 1);
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
      read_log_header(bytes, log_file, log);
      pos = log.header_bytes;
    } catch (const Error&) {
      log.format = kLogFormatVersion;  // a damaged header: look for records of the current format
      log.group_id = meta.group_id;
    }
    if (log.group_id != meta.group_id) {
      report.log_replaced = true;  // another group's records are not this group's to replay
    } else {
      std::vector<LogRecord> found;
      while (pos < bytes.size()) {
        std::size_t size = 0;
        if (intact_record(bytes, pos, log.format, size)) {
          found.push_back(record_at(bytes, pos, log.format, size));
          pos += size;
        } else {
          ++pos;
          ++report.bytes_skipped;
        }
      }
      std::stable_sort(found.begin(), found.end(), [](const LogRecord& a, const LogRecord& b) {
        return a.sequence < b.sequence;
      });
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

namespace {

// Solution versions: solutions/<name>/<id>.version per kept version, plus solutions/<name>/index
// (framed like every other file) listing them; see Store in persistence.hpp.
constexpr std::uint32_t kKindVersionIndex = 5;
constexpr char kLegacyId[] = "000001";  // the one version of a solution in the old layout

std::string solution_dir(const std::string& dir, const std::string& name) {
  return solutions_dir(dir) + "/" + name;
}
std::string index_path(const std::string& dir, const std::string& name) {
  return solution_dir(dir, name) + "/index";
}
std::string version_path(const std::string& dir, const std::string& name, const std::string& id) {
  return solution_dir(dir, name) + "/" + id + ".version";
}
// The layout before versions were kept: one file per solution.
std::string legacy_path(const std::string& dir, const std::string& name) {
  return solutions_dir(dir) + "/" + name + ".version";
}

std::string format_id(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  return std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
}

// An id's number, or 0 when it is not one (ids are digits only, so one can never name a path).
std::uint64_t id_number(const std::string& id) {
  if (id.empty() || id.size() > 18 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return std::stoull(id);
}

VersionInfo info_of(const SolutionVersion& v, std::string id, std::int64_t created_at) {
  return {std::move(id), created_at,  v.config().recipe,
          v.mode(),      v.metrics(), v.training_seconds()};
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string id_list(const detail::VersionIndex& index) {
  std::string out;
  for (const VersionInfo& v : index.versions) out += (out.empty() ? "" : ", ") + v.id;
  return out;
}

// A solution's index, or nothing when it has none (never saved, or kept in the old layout).
// @throws Error(ParseError) naming the file for a damaged or inconsistent one
std::optional<detail::VersionIndex> read_index(const std::string& dir, const std::string& name) {
  const std::string path = index_path(dir, name);
  if (!std::filesystem::exists(path)) return std::nullopt;
  detail::VersionIndex index =
      detail::deserialize_version_index(unframe(read_file(path), kKindVersionIndex, path), path);
  TAILOR_THROW_IF(index.versions.empty(), ErrorCode::ParseError, path,
                  ": inconsistent contents (no version)");
  std::uint64_t previous = 0;
  bool active_found = false;
  for (const VersionInfo& v : index.versions) {
    const std::uint64_t n = id_number(v.id);
    TAILOR_THROW_IF(n <= previous || n >= index.next_id, ErrorCode::ParseError, path,
                    ": inconsistent contents (version id \"", v.id,
                    "\" out of order or out of range)");
    previous = n;
    active_found = active_found || v.id == index.active;
  }
  TAILOR_THROW_IF(!active_found, ErrorCode::ParseError, path,
                  ": inconsistent contents (active version \"", index.active, "\" is not listed)");
  return index;
}

void write_index(const std::string& dir, const std::string& name,
                 const detail::VersionIndex& index) {
  write_atomic(index_path(dir, name),
               frame(kKindVersionIndex, detail::serialize_version_index(index)));
}

// The index of a solution kept in the old layout, built from its one version file (its modification
// time stands for the creation time).
detail::VersionIndex legacy_index(const std::string& dir, const std::string& name) {
  const std::string path = legacy_path(dir, name);
  const SolutionVersion v = tailor::load_version(path);
  struct stat st {};
  TAILOR_THROW_IF(::stat(path.c_str(), &st) != 0, ErrorCode::Io, io_error("cannot stat", path));
  detail::VersionIndex index;
  index.next_id = 2;
  index.active = kLegacyId;
  index.versions.push_back(info_of(v, kLegacyId, static_cast<std::int64_t>(st.st_mtime)));
  return index;
}

struct SolutionIndex {
  detail::VersionIndex index;
  bool legacy = false;  // kept in the old layout (nothing written in solutions/<name>/ yet)
};

// The index of a solution in either layout. @throws Error(NotFound) when there is no such solution
SolutionIndex solution_index(const std::string& dir, const std::string& name) {
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::NotFound, "no solution named \"", name,
                  "\"");
  if (auto index = read_index(dir, name)) return {std::move(*index), false};
  TAILOR_THROW_IF(!std::filesystem::exists(legacy_path(dir, name)), ErrorCode::NotFound,
                  "no trained solution named \"", name, "\" in ", dir);
  return {legacy_index(dir, name), true};
}

void make_solution_dir(const std::string& dir, const std::string& name) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(solution_dir(dir, name), ec);
  TAILOR_THROW_IF(ec, ErrorCode::Io, "cannot create directory ", solution_dir(dir, name), ": ",
                  ec.message());
  if (created) sync_directory(solutions_dir(dir));
}

// Moves a solution from the old layout into its directory: copy the version file, write the index
// (from here on the new layout is read), then delete the old file. A crash anywhere leaves the
// solution readable.
void migrate(const std::string& dir, const std::string& name, const detail::VersionIndex& index) {
  make_solution_dir(dir, name);
  write_atomic(version_path(dir, name, kLegacyId), read_file(legacy_path(dir, name)));
  write_index(dir, name, index);
  std::filesystem::remove(legacy_path(dir, name));
  sync_directory(solutions_dir(dir));
}

// Deletes what the index does not name in a solution's directory: pruned versions, and files
// left by a crash (a version written but never listed, a temporary file, an old-layout file).
void remove_unlisted(const std::string& dir, const std::string& name,
                     const detail::VersionIndex& index) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(solution_dir(dir, name), ec)) {
    const std::string file = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    const bool listed =
        std::any_of(index.versions.begin(), index.versions.end(),
                    [&](const VersionInfo& v) { return file == v.id + ".version"; });
    if ((ext == ".version" && !listed) || ext == ".tmp") std::filesystem::remove(entry.path(), ec);
  }
  std::filesystem::remove(legacy_path(dir, name), ec);
}

// Names of the solutions stored in `dir`, in name order.
std::vector<std::string> solution_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(solutions_dir(dir), ec)) {
    const std::string file = entry.path().filename().string();
    std::string name;
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "index")) {
      name = file;
    } else if (entry.path().extension() == ".version") {
      name = entry.path().stem().string();  // the old layout
    }
    if (valid_solution_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  // A solution in both layouts (a crash during its migration) is listed once.
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// Every stored version file, of every solution.
std::vector<std::string> stored_version_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const std::string& name : solution_names(dir)) {
    if (auto index = read_index(dir, name)) {
      for (const VersionInfo& v : index->versions) files.push_back(version_path(dir, name, v.id));
    } else if (std::filesystem::exists(legacy_path(dir, name))) {
      files.push_back(legacy_path(dir, name));
    }
  }
  return files;
}

}  // namespace

std::string Store::save_version(const SolutionVersion& given) {
  require_writable("save a solution version");
  // A version trained on data copied before a deletion must not bring the deleted rows back.
  auto [deleted_users, deleted_items] = group_->read([](const DatasetGroup& g) {
    return std::make_pair(g.deleted_users().set_indices(), g.deleted_items().set_indices());
  });
  const SolutionVersion version =
      deleted_users.empty() && deleted_items.empty()
          ? given
          : SolutionVersion(given.config(), given.mode(),
                            given.model()->without(deleted_users, deleted_items), given.metrics(),
                            given.baseline_metrics(), given.training_seconds());
  const std::string& name = version.config().name;
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::InvalidArgument, "solution name \"", name,
                  "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  TAILOR_THROW_IF(options_.versions_kept < 1, ErrorCode::InvalidArgument,
                  "StoreOptions::versions_kept must be at least 1, found ", options_.versions_kept);
  detail::VersionIndex index;
  if (auto existing = read_index(dir_, name)) {
    index = std::move(*existing);
  } else if (std::filesystem::exists(legacy_path(dir_, name))) {
    index = legacy_index(dir_, name);
    migrate(dir_, name, index);
  } else {
    make_solution_dir(dir_, name);
  }
  const std::string id = format_id(index.next_id);
  // The version file first: until the index names it, a crash leaves the solution as it was.
  tailor::save_version(version, version_path(dir_, name, id));
  index.versions.push_back(info_of(version, id, now_seconds()));
  index.next_id += 1;
  index.active = id;
  // Drop the oldest beyond the limit. The active one (the new version, unless a caller activates
  // between saves) is never dropped.
  while (index.versions.size() > static_cast<std::size_t>(options_.versions_kept)) {
    const auto oldest = std::find_if(index.versions.begin(), index.versions.end(),
                                     [&](const VersionInfo& v) { return v.id != index.active; });
    index.versions.erase(oldest);
  }
  write_index(dir_, name, index);
  remove_unlisted(dir_, name, index);
  return id;
}

std::vector<std::string> Store::solutions() const { return solution_names(dir_); }

std::vector<VersionInfo> Store::versions(const std::string& solution) const {
  return solution_index(dir_, solution).index.versions;
}

std::string Store::active_version(const std::string& solution) const {
  return solution_index(dir_, solution).index.active;
}

void Store::activate(const std::string& solution, const std::string& id) {
  require_writable("activate a version");
  SolutionIndex s = solution_index(dir_, solution);
  const bool known = std::any_of(s.index.versions.begin(), s.index.versions.end(),
                                 [&](const VersionInfo& v) { return v.id == id; });
  TAILOR_THROW_IF(!known, ErrorCode::NotFound, "solution \"", solution, "\" has no version \"", id,
                  "\" (kept: ", id_list(s.index), ")");
  s.index.active = id;
  if (s.legacy) {
    migrate(dir_, solution, s.index);
  } else {
    write_index(dir_, solution, s.index);
  }
}

SolutionVersion Store::load_version(const std::string& solution) const {
  TAILOR_THROW_IF(!valid_solution_name(solution), ErrorCode::NotFound, "no solution named \"",
                  solution, "\"");
  if (auto index = read_index(dir_, solution)) {
    return tailor::load_version(version_path(dir_, solution, index->active));
  }
  // The old layout: its one version (read directly, not through legacy_index, to load it once).
  const std::string path = legacy_path(dir_, solution);
  TAILOR_THROW_IF(!std::filesystem::exists(path), ErrorCode::NotFound,
                  "no trained solution named \"", solution, "\" in ", dir_);
  return tailor::load_version(path);
}

SolutionVersion Store::load_version(const std::string& solution, const std::string& id) const {
  const SolutionIndex s = solution_index(dir_, solution);
  const bool known = std::any_of(s.index.versions.begin(), s.index.versions.end(),
                                 [&](const VersionInfo& v) { return v.id == id; });
  TAILOR_THROW_IF(!known, ErrorCode::NotFound, "solution \"", solution, "\" has no version \"", id,
                  "\" (kept: ", id_list(s.index), ")");
  return tailor::load_version(s.legacy ? legacy_path(dir_, solution)
                                       : version_path(dir_, solution, id));
}

std::vector<std::string> Store::version_files() const { return stored_version_files(dir_); }

void Store::Files::forget(const std::vector<Index>& users, const std::vector<Index>& items) {
  require_writable();
  // Leftovers of an interrupted save may hold the rows too: they go first.
  for (const std::string& name : solution_names(dir_)) {
    if (auto index = read_index(dir_, name)) remove_unlisted(dir_, name, *index);
  }
  for (const std::string& path : stored_version_files(dir_)) {
    const SolutionVersion v = tailor::load_version(path);
    tailor::save_version(SolutionVersion(v.config(), v.mode(), v.model()->without(users, items),
                                         v.metrics(), v.baseline_metrics(), v.training_seconds()),
                         path);
  }
  // Copies of damaged logs kept by repair() may hold the deleted ids: they go too.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().rfind("updates.log.damaged-", 0) == 0) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
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

std::vector<std::pair<std::string, std::string>> Store::filters() const {
  return read_catalog(dir_).filters;
}

Filter Store::filter(const std::string& name) const {
  for (const auto& [n, expression] : read_catalog(dir_).filters) {
    if (n == name)
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
