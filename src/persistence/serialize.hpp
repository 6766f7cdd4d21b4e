// SPDX-License-Identifier: MIT
// Payload (de)serialisation for snapshots, solution versions and log records. Only the
// serialize_*.cpp files include Boost.Serialization.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tailor/data/dataset_group.hpp"
#include "tailor/persistence/persistence.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor::detail {

/// What a snapshot says about its store besides the group.
struct SnapshotMeta {
  std::uint64_t last_sequence = 0;  ///< the last update-log record the snapshot contains
  std::string group_id;             ///< the store's identity ("" in snapshots of format 1)
};

/// The dataset group as bytes.
std::string serialize_group(const DatasetGroup& group, const SnapshotMeta& meta);
/// Replaces the snapshot file `path` by the group, framed as frame(kKindSnapshot,
/// serialize_group(group, meta)) and written atomically, without a copy of it in memory.
/// @throws Error(Io); the old file is then left as it was
void write_group_snapshot(const std::string& path, const DatasetGroup& group,
                          const SnapshotMeta& meta);
/// The group back. Every length is checked against the bytes left before anything is allocated,
/// every index against its range. @throws Error(ParseError) naming `what`
DatasetGroup deserialize_group(const std::string& payload, SnapshotMeta& meta,
                               const std::string& what);

std::string serialize_version(const SolutionVersion& version);
SolutionVersion deserialize_version(const std::string& payload, const std::string& what);

std::string serialize_events(const std::vector<EventRecord>& events);
std::vector<EventRecord> deserialize_events(const std::string& payload, const std::string& what);
std::string serialize_entities(const std::vector<EntityRecord>& records);
std::vector<EntityRecord> deserialize_entities(const std::string& payload, const std::string& what);

/// Named (key, value) pairs: the store's filters (name -> expression) and campaigns (name ->
/// solution).
struct Catalog {
  std::vector<std::pair<std::string, std::string>> filters;
  std::vector<std::pair<std::string, std::string>> campaigns;
};
std::string serialize_catalog(const Catalog& catalog);
Catalog deserialize_catalog(const std::string& payload, const std::string& what);

/// A solution's version index: its kept versions (oldest first), the active one and the number
/// the next id gets.
struct VersionIndex {
  std::uint64_t next_id = 1;
  std::string active;
  std::vector<VersionInfo> versions;
};
std::string serialize_version_index(const VersionIndex& index);
/// @throws Error(ParseError) naming `what`; the ids themselves are checked by the caller
VersionIndex deserialize_version_index(const std::string& payload, const std::string& what);

}  // namespace tailor::detail
