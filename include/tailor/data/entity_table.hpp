// SPDX-License-Identifier: MIT
// EntityTable: the Users or Items dataset, metadata rows keyed by dense user/item index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tailor/data/column.hpp"
#include "tailor/export.hpp"
#include "tailor/schema/schema.hpp"
#include "tailor/types.hpp"

namespace tailor {

namespace detail {
struct DataAccess;
}  // namespace detail

/// Metadata of users or items: one Column per schema field other than the id.
///
/// Rows are append-only; an upsert appends a new row and points the entity at it, and the
/// table compacts itself when superseded rows outnumber live ones. Entities are the dense
/// indices of the DatasetGroup's user or item IdMap; an entity may have no row (known only
/// from interactions).
///
/// Users read tables (DatasetGroup::users() and items()); only the library upserts and erases.
///
/// Thread safety: const members may be called concurrently.
class TAILOR_EXPORT EntityTable {
 public:
  /// Value of row_of() for an entity without metadata.
  static constexpr std::uint32_t kNoRow = 0xFFFFFFFFu;

  explicit EntityTable(Schema schema);

  const Schema& schema() const { return schema_; }
  /// Metadata columns in schema order (the id field excluded).
  const std::vector<Column>& columns() const { return columns_; }
  /// Column named `name`, or nullptr.
  const Column* column(std::string_view name) const;
  /// Row holding entity `e`'s metadata, or kNoRow.
  std::uint32_t row_of(Index e) const { return e < row_of_.size() ? row_of_[e] : kNoRow; }
  /// Number of entities that have metadata.
  std::size_t count() const { return live_; }
  /// Entities whose current row holds dictionary code `code` in categorical column `column`,
  /// ascending (an inverted index kept current by every upsert).
  Span<Index> entities_with(std::size_t column, Index code) const;
  std::size_t memory_bytes() const;

 private:
  // Mutation is the library's (through detail::DataAccess, which also appends to the columns);
  // external synchronisation against every other call is the caller's.
  friend struct detail::DataAccess;
  /// Points entity `e` at the row just appended to every column (the last row).
  void commit_row(Index e);
  /// Drops every row.
  void clear();
  /// Rewrites the columns without superseded rows when they outnumber live ones.
  void compact_if_sparse();
  /// Removes the metadata of these entities (those without any are ignored) and rewrites the
  /// columns with only the live rows, so no row and no dictionary value of theirs remains.
  void erase(Span<Index> entities);

  Schema schema_;
  std::vector<Column> columns_;
  void index_row(Index e, std::uint32_t row, bool add);
  void rebuild_postings();
  void compact();
  std::vector<std::uint32_t> row_of_;
  std::size_t live_ = 0;
  // postings_[column][code]: sorted entities; empty for non-categorical columns.
  std::vector<std::vector<std::vector<Index>>> postings_;
};

}  // namespace tailor
