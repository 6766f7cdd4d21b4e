// SPDX-License-Identifier: MIT
// Files on disk: framed and checksummed snapshots written atomically, and the update log.
//
// File frame: magic "TAILOR\x00\x01" | format version u32 | kind u32 | payload length u64 |
//             payload | checksum u64 (of everything before it).
// Log record: record magic u32 | kind u32 | sequence u64 | payload length u64 | payload |
//             checksum u64 (of the record before it).
#include "tailor/persistence/persistence.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "persistence/serialize.hpp"
#include "tailor/error.hpp"

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
constexpr std::uint32_t kKindSnapshot = 1, kKindVersion = 2, kKindLog = 3, kKindCatalog = 4;
constexpr std::uint32_t kRecordMagic = 0x54524543;  // "TREC"
constexpr std::uint32_t kRecordEvents = 1, kRecordUsers = 2, kRecordItems = 3;
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8;
constexpr std::size_t kRecordHeaderSize = 4 + 4 + 8 + 8;

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
  put(out, kFormatVersion);
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
  TAILOR_THROW_IF(::rename(tmp.c_str(), path.c_str()) != 0, ErrorCode::Io, io_error("cannot rename to", path));
  sync_directory(std::filesystem::path(path).parent_path().string());
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TAILOR_THROW_IF(fd < 0, errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io, io_error("cannot open", path));
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
std::string unframe(const std::string& bytes, std::uint32_t kind, const std::string& path) {
  TAILOR_THROW_IF(bytes.size() < kHeaderSize + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0,
                  ErrorCode::ParseError, path, ": not a tailor file (bad magic or too short)");
  const auto version = get<std::uint32_t>(bytes.data() + 8);
  TAILOR_THROW_IF(version != kFormatVersion, ErrorCode::IncompatibleVersion, path, ": format version ", version,
                  ", this tailor reads version ", kFormatVersion);
  const auto found = get<std::uint32_t>(bytes.data() + 12);
  TAILOR_THROW_IF(found != kind, ErrorCode::ParseError, path, ": holds file kind ", found, ", expected ", kind);
  const auto length = get<std::uint64_t>(bytes.data() + 16);
  TAILOR_THROW_IF(length != bytes.size() - kHeaderSize - 8, ErrorCode::ParseError, path,
                  ": truncated or padded (header says ", length, " payload bytes, file holds ",
                  bytes.size() - kHeaderSize - 8, ")");
  const auto stored = get<std::uint64_t>(bytes.data() + bytes.size() - 8);
  TAILOR_THROW_IF(stored != checksum(std::string_view(bytes.data(), bytes.size() - 8)), ErrorCode::ParseError,
                  path, ": checksum mismatch (the file is corrupted)");
  return bytes.substr(kHeaderSize, length);
}

std::string snapshot_path(const std::string& dir) { return dir + "/group.snapshot"; }
std::string log_path(const std::string& dir) { return dir + "/updates.log"; }
std::string solutions_dir(const std::string& dir) { return dir + "/solutions"; }
std::string catalog_path(const std::string& dir) { return dir + "/catalog"; }

detail::Catalog read_catalog(const std::string& dir) {
  const std::string path = catalog_path(dir);
  if (!std::filesystem::exists(path)) return {};
  return detail::deserialize_catalog(unframe(read_file(path), kKindCatalog, path), path);
}

void put_pair(std::vector<std::pair<std::string, std::string>>& pairs, const std::string& key, const std::string& value) {
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
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

void save_version(const SolutionVersion& version, const std::string& path) {
  write_atomic(path, frame(kKindVersion, detail::serialize_version(version)));
}

SolutionVersion load_version(const std::string& path) {
  return detail::deserialize_version(unframe(read_file(path), kKindVersion, path), path);
}

// The update log: an append-only file of checksummed records.
struct Store::Log {
  std::string path;
  StoreOptions options;
  int fd = -1;
  std::uint64_t next_sequence = 1;
  std::uint64_t bytes = 0;
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  std::mutex mutex;

  ~Log() {
    if (fd >= 0) ::close(fd);
  }

  // Starts an empty log (after a snapshot that holds everything before `next`).
  void reset(std::uint64_t next) {
    if (fd >= 0) ::close(fd);
    fd = -1;
    write_atomic(path, frame(kKindLog, ""));
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    TAILOR_THROW_IF(fd < 0, ErrorCode::Io, io_error("cannot open", path));
    next_sequence = next;
    bytes = kHeaderSize + 8;
  }

  void append(std::uint32_t kind, const std::string& payload) {
    std::string record;
    put(record, kRecordMagic);
    put(record, kind);
    put(record, next_sequence);
    put<std::uint64_t>(record, payload.size());
    record += payload;
    put(record, checksum(record));
    const off_t before = static_cast<off_t>(bytes);
    try {
      write_all(fd, record, path);
      const auto now = std::chrono::steady_clock::now();
      const bool sync = options.sync == SyncPolicy::EveryCall ||
                        (options.sync == SyncPolicy::Interval && now - last_sync >= options.sync_interval);
      if (sync) {
        TAILOR_THROW_IF(::fdatasync(fd) != 0, ErrorCode::Io, io_error("cannot sync", path));
        last_sync = now;
      }
    } catch (...) {
      // Cut a partial record off, so that the log stays a sequence of whole records.
      if (::ftruncate(fd, before) != 0) {
        // The torn record is dropped at the next open anyway.
      }
      throw;
    }
    bytes += record.size();
    ++next_sequence;
  }
};

// Records of a log file after `after`, in order; a torn last record is dropped (and cut off).
struct LogRecord {
  std::uint32_t kind;
  std::uint64_t sequence;
  std::string payload;
};

static std::vector<LogRecord> read_log(const std::string& path, std::uint64_t& valid_bytes) {
  const std::string bytes = read_file(path);
  // The header frame of an empty log: magic, version, kind, zero length, checksum.
  const std::size_t header = kHeaderSize + 8;
  TAILOR_THROW_IF(bytes.size() < header, ErrorCode::ParseError, path, ": not a tailor log (too short)");
  unframe(bytes.substr(0, header), kKindLog, path);
  std::vector<LogRecord> records;
  std::size_t pos = header;
  while (pos < bytes.size()) {
    const std::size_t left = bytes.size() - pos;
    if (left < kRecordHeaderSize + 8) break;  // torn: header incomplete
    const char* p = bytes.data() + pos;
    TAILOR_THROW_IF(get<std::uint32_t>(p) != kRecordMagic, ErrorCode::ParseError, path,
                    ": corrupted record at byte ", pos);
    const auto length = get<std::uint64_t>(p + 16);
    if (length > left - kRecordHeaderSize - 8) break;  // torn: payload incomplete
    const std::size_t size = kRecordHeaderSize + static_cast<std::size_t>(length);
    const auto stored = get<std::uint64_t>(p + size);
    if (stored != checksum(std::string_view(p, size))) {
      // A bad checksum on the last record is a torn write; anywhere else it is corruption.
      TAILOR_THROW_IF(pos + size + 8 != bytes.size(), ErrorCode::ParseError, path,
                      ": checksum mismatch in the record at byte ", pos, " (the log is corrupted)");
      break;
    }
    records.push_back({get<std::uint32_t>(p + 4), get<std::uint64_t>(p + 8),
                       std::string(p + kRecordHeaderSize, static_cast<std::size_t>(length))});
    pos += size + 8;
  }
  valid_bytes = pos;
  return records;
}

Store::Store(std::string dir, StoreOptions options) : dir_(std::move(dir)), options_(options) {}
Store::~Store() = default;

std::unique_ptr<Store> Store::create(const std::string& dir, DatasetGroup group, StoreOptions options) {
  // A new or empty directory only: an empty path once put the group's files under "/", and a
  // store written among other files would mix with them.
  TAILOR_THROW_IF(dir.empty(), ErrorCode::InvalidArgument, "a dataset group needs a directory (the path is empty)");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    TAILOR_THROW_IF(!std::filesystem::is_directory(dir, ec), ErrorCode::InvalidArgument, dir,
                    " exists and is not a directory");
    TAILOR_THROW_IF(!std::filesystem::is_empty(dir, ec), ErrorCode::InvalidArgument, dir,
                    " is not empty: a dataset group is created in a new or empty directory");
  }
  std::filesystem::create_directories(solutions_dir(dir), ec);
  TAILOR_THROW_IF(ec, ErrorCode::Io, "cannot create directory ", dir, ": ", ec.message());
  TAILOR_THROW_IF(std::filesystem::exists(snapshot_path(dir)), ErrorCode::InvalidArgument, dir,
                  " already holds a tailor store");
  std::unique_ptr<Store> store(new Store(dir, options));
  store->group_ = std::make_shared<LiveDatasetGroup>(std::move(group));
  store->log_ = std::make_unique<Log>();
  store->log_->path = log_path(dir);
  store->log_->options = options;
  store->checkpoint();
  return store;
}

std::unique_ptr<Store> Store::open(const std::string& dir, StoreOptions options) {
  TAILOR_THROW_IF(!std::filesystem::exists(snapshot_path(dir)), ErrorCode::NotFound, dir,
                  " is not a tailor store (no group.snapshot)");
  std::unique_ptr<Store> store(new Store(dir, options));
  std::uint64_t last = 0;
  const std::string path = snapshot_path(dir);
  DatasetGroup group = detail::deserialize_group(unframe(read_file(path), kKindSnapshot, path), last, path);
  store->log_ = std::make_unique<Log>();
  Log& log = *store->log_;
  log.path = log_path(dir);
  log.options = options;
  log.next_sequence = last + 1;
  if (std::filesystem::exists(log.path)) {
    std::uint64_t valid = 0;
    for (const LogRecord& r : read_log(log.path, valid)) {
      if (r.sequence <= last) continue;  // already in the snapshot (a crash before the log was reset)
      TAILOR_THROW_IF(r.sequence != log.next_sequence, ErrorCode::ParseError, log.path, ": record ", r.sequence,
                      " out of order (expected ", log.next_sequence, ")");
      // Replaying the request repeats exactly its original validation and effect.
      switch (r.kind) {
        case kRecordEvents: group.put_events(detail::deserialize_events(r.payload, log.path)); break;
        case kRecordUsers: group.put_users(detail::deserialize_entities(r.payload, log.path)); break;
        case kRecordItems: group.put_items(detail::deserialize_entities(r.payload, log.path)); break;
        default: TAILOR_THROW(ErrorCode::ParseError, log.path, ": unknown record kind ", r.kind);
      }
      ++log.next_sequence;
    }
    log.fd = ::open(log.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    TAILOR_THROW_IF(log.fd < 0, ErrorCode::Io, io_error("cannot open", log.path));
    TAILOR_THROW_IF(::ftruncate(log.fd, static_cast<off_t>(valid)) != 0, ErrorCode::Io,
                    io_error("cannot drop the torn record of", log.path));
    log.bytes = valid;
  } else {
    log.reset(log.next_sequence);
  }
  store->group_ = std::make_shared<LiveDatasetGroup>(std::move(group));
  return store;
}

void Store::checkpoint() {
  std::lock_guard<std::mutex> lock(log_->mutex);
  const std::uint64_t last = log_->next_sequence - 1;
  const std::string bytes = group_->read([&](const DatasetGroup& g) { return detail::serialize_group(g, last); });
  write_atomic(snapshot_path(dir_), frame(kKindSnapshot, bytes));
  // The snapshot holds every record up to `last`; a crash before this reset replays nothing twice
  // because replay skips sequences the snapshot already holds.
  log_->reset(last + 1);
}

template <typename Apply>
PutReport Store::logged(std::uint32_t kind, const std::string& payload, Apply&& apply) {
  // Log first (durable per the sync policy), then apply: what is acknowledged survives a crash,
  // and a failed write applies nothing.
  std::lock_guard<std::mutex> lock(log_->mutex);
  log_->append(kind, payload);
  return apply();
}

PutReport Store::put_events(const std::vector<EventRecord>& events) {
  return logged(kRecordEvents, detail::serialize_events(events), [&] { return group_->put_events(events); });
}
PutReport Store::put_users(const std::vector<EntityRecord>& users) {
  return logged(kRecordUsers, detail::serialize_entities(users), [&] { return group_->put_users(users); });
}
PutReport Store::put_items(const std::vector<EntityRecord>& items) {
  return logged(kRecordItems, detail::serialize_entities(items), [&] { return group_->put_items(items); });
}

ImportReport Store::import_csv(DatasetKind kind, const std::string& path, const ImportOptions& options) {
  ImportReport report = group_->write([&](DatasetGroup& g) { return g.import_csv(kind, path, options); });
  if (report.applied) checkpoint();
  return report;
}

void Store::save_version(const SolutionVersion& version) {
  const std::string& name = version.config().name;
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::InvalidArgument, "solution name \"", name,
                  "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  tailor::save_version(version, solutions_dir(dir_) + "/" + name + ".version");
}

std::vector<std::string> Store::solutions() const {
  std::vector<std::pair<std::filesystem::file_time_type, std::string>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(solutions_dir(dir_), ec)) {
    if (entry.path().extension() == ".version") {
      found.emplace_back(entry.last_write_time(), entry.path().stem().string());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& [time, name] : found) names.push_back(std::move(name));
  return names;
}

SolutionVersion Store::load_version(const std::string& solution) const {
  TAILOR_THROW_IF(!valid_solution_name(solution), ErrorCode::NotFound, "no solution named \"", solution, "\"");
  const std::string path = solutions_dir(dir_) + "/" + solution + ".version";
  TAILOR_THROW_IF(!std::filesystem::exists(path), ErrorCode::NotFound, "no trained solution named \"", solution,
                  "\" in ", dir_);
  return tailor::load_version(path);
}

void Store::save_filter(const std::string& name, const std::string& expression) {
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::InvalidArgument, "filter name \"", name,
                  "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  group_->read([&](const DatasetGroup& g) { return Filter::compile(expression, g); });  // refuse a bad one
  detail::Catalog catalog = read_catalog(dir_);
  put_pair(catalog.filters, name, expression);
  write_atomic(catalog_path(dir_), frame(kKindCatalog, detail::serialize_catalog(catalog)));
}

std::vector<std::pair<std::string, std::string>> Store::filters() const { return read_catalog(dir_).filters; }

Filter Store::filter(const std::string& name) const {
  for (const auto& [n, expression] : read_catalog(dir_).filters) {
    if (n == name) return group_->read([&](const DatasetGroup& g) { return Filter::compile(expression, g); });
  }
  TAILOR_THROW(ErrorCode::NotFound, "no filter named \"", name, "\" in ", dir_);
}

void Store::save_campaign(const std::string& name, const std::string& solution) {
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::InvalidArgument, "campaign name \"", name,
                  "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  load_version(solution);  // the solution must exist
  detail::Catalog catalog = read_catalog(dir_);
  put_pair(catalog.campaigns, name, solution);
  write_atomic(catalog_path(dir_), frame(kKindCatalog, detail::serialize_catalog(catalog)));
}

std::vector<std::pair<std::string, std::string>> Store::campaigns() const { return read_catalog(dir_).campaigns; }

std::uint64_t Store::log_bytes() const {
  std::lock_guard<std::mutex> lock(log_->mutex);
  return log_->bytes;
}

}  // namespace tailor
