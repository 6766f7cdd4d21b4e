// SPDX-License-Identifier: MIT
// The store's file layer: framed and checksummed files written atomically, and the writer lock.
//
// File frame: magic "TAILOR\x00\x01" | format version u32 | kind u32 | payload length u64 |
//             payload | checksum u64 (of everything before it).
#include "persistence/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "detail/hash64.hpp"
#include "persistence/fault_injection.hpp"
#include "tailor/data/id_map.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

namespace {
std::atomic<std::uint64_t> g_fail_after{0};  // bytes until a simulated full disk; 0 = off

constexpr std::uint32_t kFormatVersion = 1;

std::string lock_path(const std::string& dir) { return dir + "/lock"; }
}  // namespace

void fail_writes_after(std::uint64_t bytes) { g_fail_after = bytes; }

std::uint64_t checksum(std::string_view bytes) { return IdMap::hash(bytes); }

std::string io_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
  std::uint64_t limit = g_fail_after.load();
  std::size_t to_write = bytes.size();
  bool simulate = false;
  if (limit != 0) {
    if (bytes.size() >= limit) {
      to_write = static_cast<std::size_t>(limit - 1);
      simulate = true;
      g_fail_after = 0;
    } else {
      g_fail_after = limit - bytes.size();
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

namespace {

// Temporary file, fsync, atomic rename, directory fsync: the old file survives any failure.
template <typename Write>
void replace_file(const std::string& path, Write&& write) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TAILOR_THROW_IF(fd < 0, ErrorCode::Io, io_error("cannot create", tmp));
  try {
    write(fd, tmp);
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

// Counts the bytes written to it and keeps none.
class CountingBuffer : public std::streambuf {
 public:
  std::uint64_t count() const { return count_; }

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    count_ += static_cast<std::uint64_t>(n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) ++count_;
    return traits_type::not_eof(c);
  }

 private:
  std::uint64_t count_ = 0;
};

// Writes what it is given to a file through a small buffer, folding it into the checksum of
// `size` bytes as it goes. The buffer's size is a multiple of 8, so
// every write but the last hands the checksum whole words.
class ChecksummingFileBuffer : public std::streambuf {
 public:
  ChecksummingFileBuffer(int fd, const std::string& path, std::uint64_t size)
      : fd_(fd), path_(path), hash_(hash_start(size)), buffer_(kSize) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  // Writes out the rest and returns the checksum of every byte written.
  std::uint64_t finish() {
    const std::size_t n = static_cast<std::size_t>(pptr() - pbase());
    hash_ = hash_words(hash_, pbase(), n / 8);
    hash_ = hash_finish(hash_, pbase() + n / 8 * 8, n % 8);
    write_all(fd_, std::string_view(pbase(), n), path_);
    written_ += n;
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return hash_;
  }
  std::uint64_t written() const { return written_ + static_cast<std::uint64_t>(pptr() - pbase()); }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::streamsize done = 0;
    while (done < n) {
      if (pptr() == epptr()) flush_full();
      const std::streamsize k = std::min<std::streamsize>(epptr() - pptr(), n - done);
      std::memcpy(pptr(), s + done, static_cast<std::size_t>(k));
      pbump(static_cast<int>(k));
      done += k;
    }
    return n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    if (pptr() == epptr()) flush_full();
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
    return c;
  }

 private:
  static constexpr std::size_t kSize = std::size_t{1} << 20;
  void flush_full() {
    hash_ = hash_words(hash_, pbase(), kSize / 8);
    write_all(fd_, std::string_view(pbase(), kSize), path_);
    written_ += kSize;
    setp(buffer_.data(), buffer_.data() + buffer_.size());
#ifdef SYNC_FILE_RANGE_WRITE
    // Starts writing the last few MiB to the disk now, while the rest is produced, so that the
    // closing fsync (which still decides durability) has little left to wait for. Advice only:
    // an error here is fsync's to report.
    if (written_ % kWriteBehind == 0)
      (void)::sync_file_range(fd_, static_cast<off_t>(written_ - kWriteBehind), kWriteBehind,
                              SYNC_FILE_RANGE_WRITE);
#endif
  }
  static constexpr std::size_t kWriteBehind = std::size_t{8} << 20;
  int fd_;
  const std::string& path_;
  std::uint64_t hash_;
  std::uint64_t written_ = 0;
  std::vector<char> buffer_;
};

}  // namespace

void write_atomic(const std::string& path, const std::string& bytes) {
  replace_file(path, [&](int fd, const std::string& tmp) { write_all(fd, bytes, tmp); });
}

void write_framed_atomic(const std::string& path, std::uint32_t kind,
                         const std::function<void(std::streambuf&)>& payload) {
  CountingBuffer counter;
  payload(counter);
  const std::uint64_t size = counter.count();
  std::string header(kMagic, sizeof kMagic);
  put(header, kind == kKindLog ? kLogFormatVersion : kFormatVersion);
  put(header, kind);
  put<std::uint64_t>(header, size);
  replace_file(path, [&](int fd, const std::string& tmp) {
    ChecksummingFileBuffer out(fd, tmp, kHeaderSize + size);
    out.sputn(header.data(), static_cast<std::streamsize>(header.size()));
    payload(out);
    TAILOR_THROW_IF(out.written() != kHeaderSize + size, ErrorCode::Internal, tmp,
                    ": the payload changed between measuring and writing it");
    std::string sum;
    put(sum, out.finish());
    write_all(fd, sum, tmp);
  });
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

std::string unframe(const std::string& bytes, std::uint32_t kind, const std::string& path,
                    std::uint32_t* format) {
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

// The holder's pid is written into the lock file for the next one's message.
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

}  // namespace tailor::detail
