// SPDX-License-Identifier: MIT
// The store's file layer: framed, checksummed files written atomically, the store's paths and its
// writer lock (private to src/persistence/).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <streambuf>
#include <string>
#include <string_view>

namespace tailor::detail {

/// The first bytes of every file the store writes.
inline constexpr char kMagic[8] = {'T', 'A', 'I', 'L', 'O', 'R', '\0', '\1'};
/// The newest format of the update log; every other file is at format 1.
inline constexpr std::uint32_t kLogFormatVersion = 2;
/// File kinds, as a frame's header names them (5, a solution's version index, is
/// store_versions.cpp's).
inline constexpr std::uint32_t kKindSnapshot = 1, kKindVersion = 2, kKindLog = 3, kKindCatalog = 4;
/// A frame's header: magic, format version, kind, payload length.
inline constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8;

/// Appends the bytes of `value` to `out`.
template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
/// The value whose bytes start at `p`.
template <typename T>
T get(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

/// The checksum of frames and log records.
std::uint64_t checksum(std::string_view bytes);

/// "`what` `path`: " and errno's message.
std::string io_error(const std::string& what, const std::string& path);

/// write(2) all of `bytes`, honouring the simulated full disk (fail_writes_after()).
/// @throws Error(Io) naming `path`
void write_all(int fd, std::string_view bytes, const std::string& path);

/// fsync(2) of a directory, so that a file created or renamed in it stays.
void sync_directory(const std::string& dir);

/// A file of `kind` holding `payload`: header, payload, checksum.
std::string frame(std::uint32_t kind, const std::string& payload);

/// Replaces `path` by `bytes` so that the old file survives any failure.
void write_atomic(const std::string& path, const std::string& bytes);

/// write_atomic(path, frame(kind, payload)) without holding the file in memory: `payload` writes
/// the payload into the stream it is given, and is called twice, to measure the payload and then to
/// write it (through a small buffer), so it must write the same bytes both times.
/// @throws Error(Io), or whatever `payload` throws; either way the old file is left as it was
void write_framed_atomic(const std::string& path, std::uint32_t kind,
                         const std::function<void(std::streambuf&)>& payload);

/// A whole file. @throws Error(NotFound) when it does not exist, Error(Io)
std::string read_file(const std::string& path);

/// The payload of a framed file, after checking magic, version, kind, length and checksum.
/// `format` receives the file's format version. @throws Error(ParseError, IncompatibleVersion)
std::string unframe(const std::string& bytes, std::uint32_t kind, const std::string& path,
                    std::uint32_t* format = nullptr);

/// The store's snapshot of its dataset group.
inline std::string snapshot_path(const std::string& dir) { return dir + "/group.snapshot"; }
/// The store's update log.
inline std::string log_path(const std::string& dir) { return dir + "/updates.log"; }
/// The directory of the store's solution versions.
inline std::string solutions_dir(const std::string& dir) { return dir + "/solutions"; }
/// The store's filters and campaigns.
inline std::string catalog_path(const std::string& dir) { return dir + "/catalog"; }

/// Takes the writer lock of the store in `dir`, waiting up to `wait`; returns the lock file's
/// descriptor (closing it lets go). @throws Error(Busy) naming the holder's pid, Error(Io)
int acquire_writer_lock(const std::string& dir, std::chrono::milliseconds wait);

}  // namespace tailor::detail
