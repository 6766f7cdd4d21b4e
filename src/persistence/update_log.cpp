// SPDX-License-Identifier: MIT
// The store's update log: records written, read strictly, salvaged after damage, and replayed.
//
// Update log: a frame whose payload is the store's group id (32 characters) and the sequence of
//             the last record the snapshot held when the log was started (u64), then records:
//             record magic u32 | kind u32 | sequence u64 | payload length u64 |
//             header checksum u64 (of the 24 bytes before it) | payload |
//             checksum u64 (of the record before it).
//             Format 1 logs have an empty frame payload and records without a header checksum.
#include "persistence/update_log.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <string_view>

#include "persistence/files.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

namespace {

constexpr std::uint32_t kRecordMagic = 0x54524543;  // "TREC"
constexpr std::size_t kGroupIdSize = 32;
constexpr std::size_t kRecordHeaderSize = 4 + 4 + 8 + 8;  // + 8 (header checksum) in format 2

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

}  // namespace

std::string empty_log(const std::string& group_id, std::uint64_t base) {
  std::string header = group_id;
  header.resize(kGroupIdSize, '0');
  put(header, base);
  return frame(kKindLog, header);
}

std::string log_record(std::uint32_t kind, std::uint64_t sequence, const std::string& payload) {
  std::string record;
  put(record, kRecordMagic);
  put(record, kind);
  put(record, sequence);
  put<std::uint64_t>(record, payload.size());
  put(record, checksum(record));
  record += payload;
  put(record, checksum(record));
  return record;
}

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

std::vector<LogRecord> salvage_records(const std::string& bytes, std::size_t from,
                                       std::uint32_t format, std::size_t& skipped) {
  std::vector<LogRecord> found;
  std::size_t pos = from;
  while (pos < bytes.size()) {
    std::size_t size = 0;
    if (intact_record(bytes, pos, format, size)) {
      found.push_back(record_at(bytes, pos, format, size));
      pos += size;
    } else {
      ++pos;
      ++skipped;
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const LogRecord& a, const LogRecord& b) { return a.sequence < b.sequence; });
  return found;
}

void check_log(const LogContents& log, const SnapshotMeta& snapshot, const std::string& path) {
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

std::uint64_t replay(DatasetGroup& group, const std::vector<LogRecord>& records, std::uint64_t last,
                     const std::string& path) {
  for (const LogRecord& r : records) {
    if (r.sequence <= last) continue;  // in the snapshot already (a crash before the log was reset)
    // A record holds only accepted records, so replaying it repeats exactly their effect.
    switch (r.kind) {
      case kRecordEvents:
        group.put_events(deserialize_events(r.payload, path));
        break;
      case kRecordUsers:
        group.put_users(deserialize_entities(r.payload, path));
        break;
      case kRecordItems:
        group.put_items(deserialize_entities(r.payload, path));
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

}  // namespace tailor::detail
