// SPDX-License-Identifier: MIT
// Bulk CSV import, commit: a staged job's chunk-local dictionaries are merged into the group's
// ids in file order, so global ids are those of a single-threaded import, and its rows are
// appended (or replace the dataset in FULL mode). A job that is not committable changes nothing.
#include <algorithm>
#include <numeric>
#include <string_view>
#include <vector>

#include "data/data_access.hpp"
#include "data/import_stage.hpp"
#include "detail/parallel.hpp"
#include "tailor/data/dataset_group.hpp"

namespace tailor {

namespace {

using detail::DataAccess;
using detail::StagedChunk;

// Maps each chunk-local code to a global one, in chunk order.
template <typename Intern>
std::vector<std::vector<Index>> merge_dictionaries(const std::vector<StagedChunk>& chunks,
                                                   const IdMap StagedChunk::*dict,
                                                   Intern&& intern) {
  std::vector<std::vector<Index>> luts(chunks.size());
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const IdMap& d = chunks[c].*dict;
    luts[c].resize(d.size());
    for (Index l = 0; l < d.size(); ++l) luts[c][l] = intern(d.name(l));
  }
  return luts;
}

// Frees a staged column once it is copied (on the thread that copied it, not one by one when
// the job ends).
template <typename T>
void release(std::vector<T>& v) {
  std::vector<T>().swap(v);
}

// Maps each chunk's local ids to ids of `ids`, inserting the new ones in chunk order. An empty
// map takes over the first chunk's dictionary instead, whose ids are in first-seen order as the
// map's would be: that chunk's codes are then the global ones (`first_is_identity`). The map is
// sized first for the most ids one remaining chunk found (a table grown from its first slots
// rehashes every id several times).
std::vector<std::vector<Index>> merge_ids(IdMap& ids, std::vector<StagedChunk>& chunks,
                                          IdMap StagedChunk::*dict, bool& first_is_identity) {
  std::vector<std::vector<Index>> luts(chunks.size());
  std::size_t first = 0;
  first_is_identity = ids.size() == 0 && !chunks.empty();
  if (first_is_identity) {
    ids = std::move(chunks[0].*dict);
    chunks[0].*dict = IdMap();
    luts[0].resize(ids.size());
    std::iota(luts[0].begin(), luts[0].end(), Index{0});
    first = 1;
  }
  std::size_t most = 0;
  for (std::size_t c = first; c < chunks.size(); ++c)
    most = std::max<std::size_t>(most, (chunks[c].*dict).size());
  DataAccess::reserve(ids, ids.size() + most);
  for (std::size_t c = first; c < chunks.size(); ++c) {
    const IdMap& d = chunks[c].*dict;
    luts[c].resize(d.size());
    // Sixteen ids hashed and their slots fetched before they are looked up (as the parse does).
    constexpr Index kAhead = 16;
    std::uint64_t hashes[kAhead];
    for (Index l = 0; l < d.size(); l += kAhead) {
      const Index count = std::min<Index>(kAhead, d.size() - l);
      for (Index k = 0; k < count; ++k) {
        hashes[k] = IdMap::hash(d.name(l + k));
        DataAccess::prefetch(ids, hashes[k]);
      }
      for (Index k = 0; k < count; ++k)
        luts[c][l + k] = DataAccess::insert(ids, d.name(l + k), hashes[k]);
    }
    chunks[c].*dict = IdMap();  // released here, on this task's thread
  }
  return luts;
}

}  // namespace

ImportReport DatasetGroup::import_csv_text(DatasetKind kind, std::string_view csv,
                                           const ImportOptions& options) {
  return commit(stage_csv_text(kind, csv, options));
}

ImportReport DatasetGroup::commit(StagedImport job) {
  if (!job.committable_) return std::move(job.report_);
  const DatasetKind kind = job.kind_;
  const ImportOptions& options = job.options_;
  ImportReport& report = job.report_;
  std::vector<StagedChunk>& staged = job.rows_->chunks;
  const std::size_t good_rows = job.rows_->good_rows;
  const int threads = job.rows_->threads;
  // Everything before only read the group; from here on it changes.
  const Index items_before = item_ids_.size();
  if (kind == DatasetKind::Interactions) {
    // Users, items and event types go into three different maps: merged side by side, each map
    // sized first for the most ids one chunk found.
    std::vector<std::vector<Index>> user_lut, item_lut, event_lut;
    bool users_first_identity = false, items_first_identity = false;
    detail::parallel_for(3, threads, [&](std::size_t k) {
      if (k == 0) {
        user_lut = merge_ids(user_ids_, staged, &StagedChunk::user_dict, users_first_identity);
      } else if (k == 1) {
        item_lut = merge_ids(item_ids_, staged, &StagedChunk::item_dict, items_first_identity);
      } else {
        event_lut = merge_dictionaries(staged, &StagedChunk::event_dict, [&](std::string_view s) {
          return static_cast<Index>(DataAccess::intern_event_type(interactions_, s));
        });
      }
    });
    if (options.mode == ImportMode::Full) DataAccess::clear(interactions_);
    const std::size_t first_row = interactions_.size();
    std::vector<std::size_t> offsets(staged.size() + 1, first_row);
    for (std::size_t c = 0; c < staged.size(); ++c) offsets[c + 1] = offsets[c] + staged[c].rows;
    auto event_code = [&](std::size_t c, Index local) {
      return local == kNoIndex ? kNoEventType : static_cast<std::uint16_t>(event_lut[c][local]);
    };
    if (first_row == 0 && !staged.empty()) {
      // An empty dataset takes over the first chunk's columns (reserved for the whole file) and
      // appends the others': no zero-filled columns to overwrite, no copy of the first chunk.
      // Each column is a task of its own.
      StagedChunk& head = staged[0];
      std::vector<std::uint16_t> event_types;
      auto take_ids = [&](std::vector<Index>& head_ids, std::vector<Index> StagedChunk::*ids,
                          const std::vector<std::vector<Index>>& lut, bool first_is_identity) {
        if (!first_is_identity) {
          for (Index& id : head_ids) id = lut[0][id];
        }
        for (std::size_t c = 1; c < staged.size(); ++c) {
          for (Index id : staged[c].*ids) head_ids.push_back(lut[c][id]);
          release(staged[c].*ids);
        }
      };
      auto append = [&](auto& head_column, auto StagedChunk::*column) {
        for (std::size_t c = 1; c < staged.size(); ++c) {
          auto& more = staged[c].*column;
          head_column.insert(head_column.end(), more.begin(), more.end());
          release(more);
        }
      };
      // The largest tasks first, so that the threads finish together.
      detail::parallel_for(6, threads, [&](std::size_t task) {
        switch (task) {
          case 0:
            event_types.reserve(good_rows);
            for (std::size_t c = 0; c < staged.size(); ++c) {
              for (Index local : staged[c].event_types) event_types.push_back(event_code(c, local));
              release(staged[c].event_types);
            }
            break;
          case 1:
            append(head.timestamps, &StagedChunk::timestamps);
            break;
          case 2:
            take_ids(head.users, &StagedChunk::users, user_lut, users_first_identity);
            break;
          case 3:
            take_ids(head.items, &StagedChunk::items, item_lut, items_first_identity);
            break;
          case 4:
            append(head.values, &StagedChunk::values);
            break;
          default:
            append(head.has_value, &StagedChunk::has_value);
            break;
        }
      });
      DataAccess::adopt_core(interactions_, std::move(head.users), std::move(head.items),
                             std::move(head.timestamps), std::move(event_types),
                             std::move(head.values), std::move(head.has_value));
    } else {
      DataAccess::resize_core(interactions_, offsets.back(), threads);
      // Core columns: chunks write disjoint row ranges, in parallel.
      detail::parallel_for(staged.size(), threads, [&](std::size_t c) {
        const StagedChunk& s = staged[c];
        for (std::size_t r = 0, row = offsets[c]; r < s.rows; ++r, ++row) {
          DataAccess::set_core(interactions_, row, user_lut[c][s.users[r]], item_lut[c][s.items[r]],
                               s.timestamps[r], event_code(c, s.event_types[r]), s.values[r],
                               s.has_value[r] != 0);
        }
      });
    }
    // Per-user row lists (what filters read as a user's history): each thread counts its share
    // of the new rows per user, each list is grown once, and each thread writes its rows into
    // its own places in the lists (no branch on the user, no reallocation).
    if (options.mode == ImportMode::Full) user_rows_.clear();
    user_rows_.resize(user_ids_.size());
    const std::vector<Index>& row_users = interactions_.users();
    const std::size_t parts = static_cast<std::size_t>(std::max(threads, 1));
    const std::size_t new_rows = offsets.back() - first_row;
    auto rows_of = [&](std::size_t part) {
      return std::make_pair(first_row + new_rows * part / parts,
                            first_row + new_rows * (part + 1) / parts);
    };
    // next[part][user]: first the part's count, then where its next row goes.
    std::vector<std::vector<std::uint32_t>> next(parts);
    detail::parallel_for(parts, threads, [&](std::size_t part) {
      next[part].assign(user_rows_.size(), 0);
      const auto [begin, end] = rows_of(part);
      for (std::size_t row = begin; row < end; ++row) ++next[part][row_users[row]];
    });
    detail::parallel_for(parts, threads, [&](std::size_t part) {
      const std::size_t users = user_rows_.size();
      for (std::size_t u = users * part / parts; u < users * (part + 1) / parts; ++u) {
        auto place = static_cast<std::uint32_t>(user_rows_[u].size());
        for (std::size_t p = 0; p < parts; ++p) {
          const std::uint32_t count = next[p][u];
          next[p][u] = place;
          place += count;
        }
        if (place != user_rows_[u].size()) user_rows_[u].resize(place);
      }
    });
    detail::parallel_for(parts, threads, [&](std::size_t part) {
      std::vector<std::uint32_t>& places = next[part];
      const auto [begin, end] = rows_of(part);
      for (std::size_t row = begin; row < end; ++row) {
        const Index u = row_users[row];
        user_rows_[u][places[u]++] = static_cast<std::uint32_t>(row);
      }
    });
    // Extra columns re-intern their categorical values, so they are appended in order.
    auto& extras = DataAccess::extra_columns(interactions_);
    for (std::size_t k = 0; k < extras.size(); ++k) {
      DataAccess::reserve(extras[k], offsets.back());
      for (const StagedChunk& s : staged) {
        for (std::size_t r = 0; r < s.rows; ++r)
          DataAccess::append_from(extras[k], s.columns[k], r);
      }
    }
  } else {
    EntityTable& table = kind == DatasetKind::Users ? *users_ : *items_;
    IdMap& ids = kind == DatasetKind::Users ? user_ids_ : item_ids_;
    if (options.mode == ImportMode::Full) DataAccess::clear(table);
    auto& columns = DataAccess::columns(table);
    for (const StagedChunk& s : staged) {
      const IdMap& dict = kind == DatasetKind::Users ? s.user_dict : s.item_dict;
      const std::vector<Index>& local = kind == DatasetKind::Users ? s.users : s.items;
      for (std::size_t r = 0; r < s.rows; ++r) {
        for (std::size_t k = 0; k < columns.size(); ++k) {
          DataAccess::append_from(columns[k], s.columns[k], r);
        }
        DataAccess::commit_row(table, DataAccess::insert(ids, dict.name(local[r])));
      }
    }
    DataAccess::compact_if_sparse(table);
  }
  report.rows_imported = good_rows;
  report.applied = true;
  if (kind == DatasetKind::Items || item_ids_.size() != items_before) ++items_version_;
  return std::move(report);
}

}  // namespace tailor
