// SPDX-License-Identifier: MIT
// What inspect and report show of users and items: a user's recent events and an item's
// metadata as text, and a plain-text table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tailor/tailor.hpp"

namespace tailor::cli {

/// One event of a user's history.
struct HistoryEntry {
  Index item = kNoIndex;
  std::int64_t timestamp = 0;
  std::string event_type;  ///< empty when the event has none
};

/// The user's newest `count` events, newest first (dataset order breaks ties).
std::vector<HistoryEntry> recent_history(const DatasetGroup& g, Index user, std::size_t count);

/// The user's index. @throws tailor::Error(NotFound) for an unknown or deleted user
Index user_index(const DatasetGroup& g, const std::string& user_id);

/// Checks that every name is a column of the items dataset.
/// @throws tailor::Error(InvalidArgument) naming the column and listing the ones there are
void check_item_columns(const DatasetGroup& g, const std::vector<std::string>& columns);

/// The item's value of an items column as text: multiple categorical values joined with '|',
/// empty for null or an item without a row.
std::string item_cell(const DatasetGroup& g, Index item, const std::string& column);

/// "2026-11-30 14:05 UTC".
std::string utc_minute(std::int64_t seconds);

/// Rows of cells as a table with a header and columns padded to their widest cell (cells wider
/// than `max_width` characters are cut with "...").
std::string text_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows,
                       std::size_t max_width = 40);

}  // namespace tailor::cli
