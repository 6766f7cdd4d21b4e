// SPDX-License-Identifier: MIT
// DatasetGroup: the interactions, users and items datasets of one application, with their
// schemas and the id maps they share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "tailor/data/entity_table.hpp"
#include "tailor/data/id_map.hpp"
#include "tailor/data/interactions.hpp"
#include "tailor/export.hpp"
#include "tailor/io/csv.hpp"
#include "tailor/schema/schema.hpp"

namespace tailor {

namespace detail {
struct GroupSerializer;
class CsvSource;

/// A number unique in the process, drawn afresh whenever its owner is constructed, copied, moved
/// or assigned: two objects never share one, so caches keyed by it never mix them up.
class TAILOR_EXPORT InstanceId {
 public:
  InstanceId() noexcept;
  InstanceId(const InstanceId&) noexcept : InstanceId() {}
  InstanceId& operator=(const InstanceId&) noexcept;
  std::uint64_t value() const { return value_; }

 private:
  std::uint64_t value_;
};
}  // namespace detail

/// One event for DatasetGroup::put_events (Personalize's PutEvents event).
struct EventRecord {
  std::string user_id;     ///< optional: when empty, session_id identifies the user
  std::string session_id;  ///< required, 1-256 characters
  std::string item_id;     ///< required
  std::string event_type;  ///< required
  /// Optional, 1-256 characters: an event whose id the group has stored already is
  /// acknowledged again but not stored twice (idempotent retries).
  std::string event_id;
  std::optional<float> event_value;
  std::optional<std::int64_t> sent_at;  ///< epoch seconds; required by put_events
  std::vector<std::string> impression;  ///< up to 25 item ids shown with the event
  std::string recommendation_id;        ///< up to 40 characters
  std::string properties;  ///< JSON object of further interaction fields, camelCase keys
};

/// One user or item for DatasetGroup::put_users / put_items.
struct EntityRecord {
  std::string id;
  std::string properties;  ///< JSON object of metadata fields, camelCase keys ("genre" -> GENRE)
};

/// What a put_* call did: good records are kept, bad ones rejected with reasons.
struct PutReport {
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  /// RowError::line is the 1-based position of the record in the call.
  std::vector<RowError> errors;
  /// Accepted events whose eventId the group had already stored (not stored again).
  std::size_t duplicates = 0;
  bool ok() const { return rejected == 0; }
};

/// A CSV job parsed and validated against a group's schema but not applied yet
/// (DatasetGroup::stage_csv_text()); DatasetGroup::commit() applies it. Staging reads nothing but
/// the schema, so it needs no lock while the group serves requests.
class TAILOR_EXPORT StagedImport {
 public:
  StagedImport(StagedImport&&) noexcept;
  StagedImport& operator=(StagedImport&&) noexcept;
  ~StagedImport();
  /// What the job found: rows read and rejected, errors; `applied` stays false until commit().
  const ImportReport& report() const { return report_; }
  /// Whether commit() will change the group (the file parsed and the policy accepts its rows).
  bool committable() const { return committable_; }

  /// An empty job: commits nothing.
  StagedImport();

 private:
  friend class DatasetGroup;
  struct Rows;
  DatasetKind kind_ = DatasetKind::Interactions;
  ImportOptions options_;
  ImportReport report_;
  bool committable_ = false;
  std::unique_ptr<Rows> rows_;
};

/// put_events / put_users / put_items records validated against a group but not applied yet
/// (DatasetGroup::stage_events() ...); DatasetGroup::commit() applies them.
struct TAILOR_EXPORT StagedPut {
  DatasetKind kind = DatasetKind::Interactions;
  /// The call's final report: what commit() will keep and reject.
  PutReport report;
  /// Positions (0-based, ascending) of the records commit() stores: neither rejected nor
  /// duplicates. They are what a durable log must hold.
  std::vector<std::size_t> accepted;
  StagedImport rows;
  std::vector<std::uint64_t> event_ids;  // hashes of the stored events' ids
};

/// What a delete_users / delete_items call did. Unknown ids are counted, not errors.
struct DeleteReport {
  std::size_t deleted = 0;       ///< distinct ids found and deleted
  std::size_t unknown = 0;       ///< ids given that the group does not know (each occurrence)
  std::size_t interactions = 0;  ///< interactions rows removed
  /// The indices the deleted ids had, ascending (for Model::without()). They are never reused.
  std::vector<Index> indices;
};

/// One Interactions dataset and optional Users and Items datasets.
///
/// Users and items are interned once per group: the same dense index names a user in the
/// interactions and in the Users dataset, so models, filters and metadata agree.
///
/// Thread safety: const members may be called concurrently; imports and other mutation need
/// external synchronisation against every other call.
class TAILOR_EXPORT DatasetGroup {
 public:
  /// @param interactions the Interactions schema (required)
  /// @param users, items the optional Users and Items schemas
  /// @throws tailor::Error(InvalidArgument) if a schema is of the wrong kind
  explicit DatasetGroup(Schema interactions, std::optional<Schema> users = std::nullopt,
                        std::optional<Schema> items = std::nullopt);

  /// Whether the group has a dataset of this kind (Interactions always).
  bool has_dataset(DatasetKind kind) const;
  /// Schema of a dataset. @throws tailor::Error(NotFound) when the group has no such dataset.
  const Schema& schema(DatasetKind kind) const;

  const IdMap& user_ids() const { return user_ids_; }
  const IdMap& item_ids() const { return item_ids_; }
  const Interactions& interactions() const { return interactions_; }
  /// The Users dataset, or nullptr when the group has none.
  const EntityTable* users() const { return users_ ? &*users_ : nullptr; }
  /// The Items dataset, or nullptr when the group has none.
  const EntityTable* items() const { return items_ ? &*items_ : nullptr; }
  /// Rows in a dataset (interactions rows, or users/items with metadata).
  std::size_t rows(DatasetKind kind) const;
  /// The interactions rows of one user, oldest first in dataset order (empty for an unknown
  /// user).
  Span<std::uint32_t> interaction_rows_of(Index user) const {
    if (user >= user_rows_.size()) return {};
    return Span<std::uint32_t>(user_rows_[user].data(), user_rows_[user].size());
  }
  /// Changes whenever item metadata or the set of item ids changes (cache invalidation).
  std::uint64_t items_version() const { return items_version_; }
  /// A number no other group in the process has, not even a copy of this one: with
  /// items_version() it names the item state a cached result was computed from.
  std::uint64_t identity() const { return identity_.value(); }

  /// Imports a CSV file (RFC 4180, UTF-8, optional BOM, header row naming schema fields in any
  /// order), read in blocks (ImportOptions::read_block_bytes), one part of the file a thread.
  /// Bad rows are reported in the returned ImportReport, never thrown.
  /// @throws tailor::Error(Io) when the file cannot be read,
  ///         tailor::Error(NotFound) when the group has no dataset of this kind
  ImportReport import_csv(DatasetKind kind, const std::string& path,
                          const ImportOptions& options = {});
  /// Imports CSV text already in memory; as import_csv().
  ImportReport import_csv_text(DatasetKind kind, std::string_view csv,
                               const ImportOptions& options = {});
  /// The first half of import_csv(): reads, parses and validates the file without changing the
  /// group. @throws as import_csv()
  StagedImport stage_csv(DatasetKind kind, const std::string& path,
                         const ImportOptions& options = {}) const;
  /// The first half of import_csv_text().
  StagedImport stage_csv_text(DatasetKind kind, std::string_view csv,
                              const ImportOptions& options = {}) const;
  /// The second half: applies a staged job (when committable()) and returns its final report.
  /// The group must not have changed its schemas since staging (they never change).
  ImportReport commit(StagedImport staged);

  /// Appends events (validated against the Interactions schema). Visible to the next read.
  PutReport put_events(const std::vector<EventRecord>& events);
  /// Upserts users (validated against the Users schema).
  /// @throws tailor::Error(NotFound) when the group has no Users dataset
  PutReport put_users(const std::vector<EntityRecord>& users);
  /// Upserts items (validated against the Items schema).
  /// @throws tailor::Error(NotFound) when the group has no Items dataset
  PutReport put_items(const std::vector<EntityRecord>& items);

  /// The first half of put_events(): validates without changing the group. It reads the event ids
  /// stored so far, so it must not run concurrently with a commit().
  StagedPut stage_events(const std::vector<EventRecord>& events) const;
  /// The first half of put_users().
  StagedPut stage_users(const std::vector<EntityRecord>& users) const;
  /// The first half of put_items().
  StagedPut stage_items(const std::vector<EntityRecord>& items) const;
  /// The second half of put_*: applies what was staged and returns the report.
  PutReport commit(StagedPut staged);
  /// Deletes users (Personalize's data deletion job): their interactions rows, every column of
  /// them, and their Users rows are removed, and their ids forgotten: the next request treats
  /// such an id as unknown, and importing it again gives it a new index.
  DeleteReport delete_users(const std::vector<std::string>& ids);
  /// Deletes items: every interaction with them, their Items rows, their ids (also from the
  /// IMPRESSION lists of the remaining interactions). Changes items_version().
  DeleteReport delete_items(const std::vector<std::string>& ids);
  /// The indices of deleted users as bits (indices at or past its size() are not deleted).
  const Bitmap& deleted_users() const { return user_ids_.erased(); }
  /// The indices of deleted items as bits (indices at or past its size() are not deleted): a
  /// model trained before a deletion still scores them, so serving leaves them out.
  const Bitmap& deleted_items() const { return item_ids_.erased(); }

  /// Bytes of heap memory held by all datasets and id maps.
  std::size_t memory_bytes() const;

 private:
  friend struct detail::GroupSerializer;  // snapshots restore the group as it was
  // stage_csv() and stage_csv_text(): the text from a file read in blocks or from memory.
  StagedImport stage_csv_source(DatasetKind kind, detail::CsvSource& source,
                                const ImportOptions& options) const;
  // Drops the interactions rows not in `keep` and renumbers the per-user row lists.
  void keep_interactions(const Bitmap& keep);
  Schema interactions_schema_;
  IdMap user_ids_;
  IdMap item_ids_;
  Interactions interactions_;
  std::optional<EntityTable> users_;
  std::optional<EntityTable> items_;
  std::vector<std::vector<std::uint32_t>> user_rows_;  // per user, rows into interactions_
  std::uint64_t items_version_ = 0;
  detail::InstanceId identity_;
  std::unordered_set<std::uint64_t> event_ids_;  // hashes of stored events' eventId
};

}  // namespace tailor
