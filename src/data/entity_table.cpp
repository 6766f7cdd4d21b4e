// SPDX-License-Identifier: MIT
// EntityTable storage.
#include "tailor/data/entity_table.hpp"

#include <algorithm>
#include <utility>

#include "data/data_access.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {
bool is_id_field(const Schema& s, const Field& f) {
  return f.name == (s.kind() == DatasetKind::Users ? "USER_ID" : "ITEM_ID");
}
}  // namespace

EntityTable::EntityTable(Schema schema) : schema_(std::move(schema)) {
  TAILOR_THROW_IF(schema_.kind() == DatasetKind::Interactions, ErrorCode::InvalidArgument,
                  "an EntityTable holds Users or Items, not Interactions");
  for (const Field& f : schema_.fields()) {
    if (!is_id_field(schema_, f)) columns_.emplace_back(f);
  }
  postings_.resize(columns_.size());
}

Span<Index> EntityTable::entities_with(std::size_t column, Index code) const {
  const auto& lists = postings_[column];
  if (code >= lists.size()) return {};
  return Span<Index>(lists[code].data(), lists[code].size());
}

void EntityTable::index_row(Index e, std::uint32_t row, bool add) {
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    if (!columns_[c].field().categorical) continue;
    auto& lists = postings_[c];
    for (Index code : columns_[c].codes_at(row)) {
      if (code >= lists.size()) lists.resize(static_cast<std::size_t>(code) + 1);
      std::vector<Index>& list = lists[code];
      auto it = std::lower_bound(list.begin(), list.end(), e);
      const bool present = it != list.end() && *it == e;
      if (add && !present) list.insert(it, e);
      if (!add && present) list.erase(it);
    }
  }
}

void EntityTable::rebuild_postings() {
  for (auto& lists : postings_) lists.clear();
  for (std::size_t e = 0; e < row_of_.size(); ++e) {
    if (row_of_[e] != kNoRow) index_row(static_cast<Index>(e), row_of_[e], true);
  }
}

const Column* EntityTable::column(std::string_view name) const {
  for (const Column& c : columns_) {
    if (c.field().name == name) return &c;
  }
  return nullptr;
}

void EntityTable::commit_row(Index e) {
  const std::size_t rows = columns_.empty() ? 0 : columns_.front().size();
  TAILOR_THROW_IF(rows == 0 || rows - 1 >= kNoRow, ErrorCode::Internal,
                  "commit_row without an appended row");
  if (e >= row_of_.size()) row_of_.resize(static_cast<std::size_t>(e) + 1, kNoRow);
  if (row_of_[e] == kNoRow)
    ++live_;
  else
    index_row(e, row_of_[e], false);
  row_of_[e] = static_cast<std::uint32_t>(rows - 1);
  index_row(e, row_of_[e], true);
}

void EntityTable::clear() {
  for (Column& c : columns_) detail::DataAccess::clear(c);
  row_of_.clear();
  live_ = 0;
  for (auto& lists : postings_) lists.clear();
}

void EntityTable::compact_if_sparse() {
  const std::size_t rows = columns_.empty() ? 0 : columns_.front().size();
  if (rows < 1024 || rows <= 2 * live_) return;
  compact();
}

void EntityTable::erase(Span<Index> entities) {
  for (Index e : entities) {
    if (e >= row_of_.size() || row_of_[e] == kNoRow) continue;
    index_row(e, row_of_[e], false);
    row_of_[e] = kNoRow;
    --live_;
  }
  compact();  // always: superseded rows of these entities hold their data too
}

void EntityTable::compact() {
  std::vector<Column> fresh;
  fresh.reserve(columns_.size());
  for (const Column& c : columns_) {
    fresh.emplace_back(c.field());
    detail::DataAccess::reserve(fresh.back(), live_);
  }
  std::vector<std::uint32_t> fresh_rows(row_of_.size(), kNoRow);
  std::uint32_t next = 0;
  for (std::size_t e = 0; e < row_of_.size(); ++e) {
    if (row_of_[e] == kNoRow) continue;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      detail::DataAccess::append_from(fresh[c], columns_[c], row_of_[e]);
    }
    fresh_rows[e] = next++;
  }
  columns_.swap(fresh);
  row_of_.swap(fresh_rows);
  rebuild_postings();  // the fresh columns numbered their dictionary codes anew
}

std::size_t EntityTable::memory_bytes() const {
  std::size_t bytes = row_of_.capacity() * sizeof(std::uint32_t);
  for (const Column& c : columns_) bytes += c.memory_bytes();
  return bytes;
}

}  // namespace tailor
