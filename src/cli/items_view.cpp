// SPDX-License-Identifier: MIT
// Users' recent events, items' metadata as text, and plain-text tables.
#include "cli/items_view.hpp"

#include <algorithm>
#include <ctime>
#include <sstream>

namespace tailor::cli {

std::vector<HistoryEntry> recent_history(const DatasetGroup& g, Index user, std::size_t count) {
  const Interactions& in = g.interactions();
  std::vector<std::uint32_t> rows(g.interaction_rows_of(user).begin(),
                                  g.interaction_rows_of(user).end());
  // Newest first; of events at the same time, the later row first.
  std::sort(rows.begin(), rows.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (in.timestamps()[a] != in.timestamps()[b]) return in.timestamps()[a] > in.timestamps()[b];
    return a > b;
  });
  if (rows.size() > count) rows.resize(count);
  std::vector<HistoryEntry> out;
  for (std::uint32_t r : rows) {
    HistoryEntry e;
    e.item = in.items()[r];
    e.timestamp = in.timestamps()[r];
    if (in.event_types()[r] != kNoEventType)
      e.event_type = std::string(in.event_type_names().name(in.event_types()[r]));
    out.push_back(std::move(e));
  }
  return out;
}

Index user_index(const DatasetGroup& g, const std::string& user_id) {
  const Index user = g.user_ids().find(user_id);
  TAILOR_THROW_IF(user == kNoIndex || user >= g.user_ids().size(), ErrorCode::NotFound,
                  "unknown user \"", user_id, "\": no events or record in this dataset group");
  return user;
}

void check_item_columns(const DatasetGroup& g, const std::vector<std::string>& columns) {
  if (columns.empty()) return;
  const EntityTable* items = g.items();
  TAILOR_THROW_IF(!items, ErrorCode::InvalidArgument,
                  "--metadata: this dataset group has no items dataset");
  std::string names;
  for (const Column& c : items->columns()) names += (names.empty() ? "" : ", ") + c.field().name;
  for (const std::string& name : columns) {
    TAILOR_THROW_IF(!items->column(name), ErrorCode::InvalidArgument,
                    "--metadata: no items column \"", name, "\" (the items dataset has ", names,
                    ")");
  }
}

std::string item_cell(const DatasetGroup& g, Index item, const std::string& column) {
  const EntityTable* items = g.items();
  if (!items) return {};
  const Column* c = items->column(column);
  const std::uint32_t row = items->row_of(item);
  if (!c || row == EntityTable::kNoRow || row >= c->size() || c->is_null(row)) return {};
  const Field& f = c->field();
  if (f.categorical) {
    std::string out;
    for (Index code : c->codes_at(row)) {
      out += (out.empty() ? "" : "|") + std::string(c->dictionary().name(code));
    }
    return out;
  }
  if (f.type == FieldType::Boolean) return c->bool_at(row) ? "true" : "false";
  if (f.is_integral()) return std::to_string(c->int_at(row));
  if (f.is_numeric()) {
    std::ostringstream out;
    out << c->number_at(row);
    return out.str();
  }
  return std::string(c->text_at(row));
}

std::string utc_minute(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &tm);
  return buffer;
}

std::string text_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows, std::size_t max_width) {
  auto cut = [&](const std::string& cell) {
    if (cell.size() <= max_width) return cell;
    std::size_t end = max_width - 3;
    // Never split a UTF-8 character.
    while (end > 0 && (static_cast<unsigned char>(cell[end]) & 0xC0) == 0x80) --end;
    return cell.substr(0, end) + "...";
  };
  std::vector<std::size_t> width(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = cut(header[c]).size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], cut(row[c]).size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < cells.size() ? cut(cells[c]) : "";
      text += cell;
      if (c + 1 < width.size()) text += std::string(width[c] - cell.size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header);
  std::vector<std::string> rule;
  for (std::size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& row : rows) line(row);
  return out;
}

}  // namespace tailor::cli
