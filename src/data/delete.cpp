// SPDX-License-Identifier: MIT
// DatasetGroup: deletion of users and items (Personalize's data deletion job).
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/data_access.hpp"
#include "tailor/data/dataset_group.hpp"

namespace tailor {

namespace {

using detail::DataAccess;

// The distinct indices of the known ids, ascending, counting the unknown ones.
DeleteReport find_ids(const IdMap& map, const std::vector<std::string>& ids) {
  DeleteReport report;
  for (const std::string& id : ids) {
    const Index i = map.find(id);
    if (i == kNoIndex)
      ++report.unknown;
    else
      report.indices.push_back(i);
  }
  std::sort(report.indices.begin(), report.indices.end());
  report.indices.erase(std::unique(report.indices.begin(), report.indices.end()),
                       report.indices.end());
  report.deleted = report.indices.size();
  return report;
}

Bitmap bits_of(const std::vector<Index>& indices, std::size_t size) {
  Bitmap bits(size);
  for (Index i : indices) bits.set(i);
  return bits;
}

// IMPRESSION lists the items shown with an event, as "a|b|c": the remaining rows must not name
// a deleted item either. An emptied list becomes null where the field allows it, as an empty
// value does on import.
Column without_impressions(const Column& column, const IdMap& items, const Bitmap& deleted) {
  Column fresh(column.field());
  DataAccess::reserve(fresh, column.size());
  std::string kept;
  for (std::size_t r = 0; r < column.size(); ++r) {
    if (column.is_null(r)) {
      DataAccess::append_null(fresh);
      continue;
    }
    std::string_view rest = column.text_at(r);
    kept.clear();
    while (true) {
      const std::size_t bar = rest.find('|');
      const std::string_view part = rest.substr(0, bar);
      const Index i = items.find(part);
      if (!part.empty() && !(i != kNoIndex && i < deleted.size() && deleted.test(i))) {
        kept.append(kept.empty() ? "" : "|").append(part);
      }
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
    if (kept.empty() && column.field().nullable)
      DataAccess::append_null(fresh);
    else
      DataAccess::append_text(fresh, kept);
  }
  return fresh;
}

}  // namespace

void DatasetGroup::keep_interactions(const Bitmap& keep) {
  DataAccess::keep_rows(interactions_, keep);
  user_rows_.assign(user_ids_.size(), {});
  const std::vector<Index>& users = interactions_.users();
  for (std::size_t row = 0; row < users.size(); ++row) {
    user_rows_[users[row]].push_back(static_cast<std::uint32_t>(row));
  }
}

DeleteReport DatasetGroup::delete_users(const std::vector<std::string>& ids) {
  DeleteReport report = find_ids(user_ids_, ids);
  if (report.indices.empty()) return report;
  const Bitmap deleted = bits_of(report.indices, user_ids_.size());
  const std::vector<Index>& users = interactions_.users();
  Bitmap keep(users.size());
  for (std::size_t row = 0; row < users.size(); ++row) keep.set_if(row, !deleted.test(users[row]));
  report.interactions = users.size() - keep.count();
  keep_interactions(keep);
  if (users_) DataAccess::erase(*users_, report.indices);
  DataAccess::erase(user_ids_, report.indices);
  return report;
}

DeleteReport DatasetGroup::delete_items(const std::vector<std::string>& ids) {
  DeleteReport report = find_ids(item_ids_, ids);
  if (report.indices.empty()) return report;
  const Bitmap deleted = bits_of(report.indices, item_ids_.size());
  const std::vector<Index>& items = interactions_.items();
  Bitmap keep(items.size());
  for (std::size_t row = 0; row < items.size(); ++row) keep.set_if(row, !deleted.test(items[row]));
  report.interactions = items.size() - keep.count();
  keep_interactions(keep);
  for (Column& c : DataAccess::extra_columns(interactions_)) {
    if (c.field().name == "IMPRESSION" && !c.field().categorical) {
      c = without_impressions(c, item_ids_, deleted);
    }
  }
  if (items_) DataAccess::erase(*items_, report.indices);
  DataAccess::erase(item_ids_, report.indices);
  ++items_version_;
  return report;
}

}  // namespace tailor
