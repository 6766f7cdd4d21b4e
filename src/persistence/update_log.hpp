// SPDX-License-Identifier: MIT
// The store's update log: its records written, read strictly, salvaged and replayed (private to
// src/persistence/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "persistence/serialize.hpp"
#include "tailor/data/dataset_group.hpp"

namespace tailor::detail {

/// What a log record holds: the accepted records of one put.
inline constexpr std::uint32_t kRecordEvents = 1, kRecordUsers = 2, kRecordItems = 3;

/// One record of the update log.
struct LogRecord {
  std::uint32_t kind = 0;
  std::uint64_t sequence = 0;
  std::size_t offset = 0;  ///< byte where the record starts
  std::string payload;
};

/// A log file as read: its header, its whole records, and where they end.
struct LogContents {
  std::uint32_t format = 0;
  std::string group_id;
  std::uint64_t base = 0;  ///< the snapshot's last sequence when the log was started (format 2)
  std::size_t header_bytes = 0;
  std::vector<LogRecord> records;
  std::size_t valid_bytes = 0;  ///< header and whole records; more bytes are a torn last record
};

/// The bytes of an empty log (of the newest format) started after a snapshot of group `group_id`
/// that holds every record up to `base`.
std::string empty_log(const std::string& group_id, std::uint64_t base);

/// The bytes of one record (of the newest format) to append to a log.
std::string log_record(std::uint32_t kind, std::uint64_t sequence, const std::string& payload);

/// Reads the log's header frame into `out`. @throws Error(ParseError, IncompatibleVersion)
void read_log_header(const std::string& bytes, const std::string& path, LogContents& out);

/// Reads a log strictly: whole records up to a torn last record (which only a crash in the middle
/// of an append leaves: nothing intact follows it). Damage before the end is refused.
/// @throws Error(ParseError, IncompatibleVersion) naming `path`
LogContents read_log(const std::string& bytes, const std::string& path);

/// Every intact record of a log of `format` from byte `from` on, in sequence order; `skipped`
/// counts the bytes between them.
std::vector<LogRecord> salvage_records(const std::string& bytes, std::size_t from,
                                       std::uint32_t format, std::size_t& skipped);

/// Checks that a log continues the snapshot: the same group, consecutive sequences, and nothing
/// missing between the snapshot's last record and the log's first. @throws Error(ParseError)
void check_log(const LogContents& log, const SnapshotMeta& snapshot, const std::string& path);

/// Applies the records the snapshot does not hold yet. Returns the last sequence applied or held.
/// @throws Error(ParseError) naming `path` for a record it cannot read
std::uint64_t replay(DatasetGroup& group, const std::vector<LogRecord>& records, std::uint64_t last,
                     const std::string& path);

/// A new store's identity.
std::string new_group_id();

}  // namespace tailor::detail
