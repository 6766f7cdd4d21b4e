// SPDX-License-Identifier: MIT
// Bulk CSV import, staging: parse chunks in parallel into staged columns with chunk-local id
// dictionaries, and decide whether the job as a whole can be committed. Nothing here changes
// the group.
//
// Determinism: chunks are parsed in file order and each chunk's dictionary is in order of first
// appearance, so rows and error lists are identical to a single-threaded parse.
#include "data/import_stage.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "data/data_access.hpp"
#include "data/import_cells.hpp"
#include "detail/hash64.hpp"
#include "detail/huge_pages.hpp"
#include "detail/parallel.hpp"
#include "io/csv.hpp"
#include "io/json.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

using detail::Cell;
using detail::DataAccess;
using detail::FieldPlan;
using detail::Role;
using detail::StagedChunk;

class Importer {
 public:
  Importer(DatasetKind kind, const Schema& schema, const ImportOptions& options)
      : kind_(kind), schema_(schema), options_(options) {}

  // Maps the header to schema fields. Returns false with a job-level error in `report`.
  bool plan(const detail::CsvRecord& header, ImportReport& report) {
    auto fail = [&](std::string reason) {
      add_error(report, RowError{header.line, "", std::move(reason)});
      return false;
    };
    if (!header.ok) return fail("malformed header: " + header.error);
    for (const Field& f : schema_.fields()) {
      FieldPlan p;
      p.field = &f;
      if (f.name == "USER_ID")
        p.role = Role::UserId;
      else if (f.name == "ITEM_ID")
        p.role = Role::ItemId;
      else if (kind_ == DatasetKind::Interactions && f.name == "TIMESTAMP")
        p.role = Role::Timestamp;
      else if (kind_ == DatasetKind::Interactions && f.name == "EVENT_TYPE")
        p.role = Role::EventType;
      else if (kind_ == DatasetKind::Interactions && f.name == "EVENT_VALUE")
        p.role = Role::EventValue;
      if (p.role == Role::Column)
        p.column = static_cast<int>(columns_.size()), columns_.push_back(&f);
      detail::plan_fast_check(p);
      plans_.push_back(p);
    }
    columns_in_file_ = header.fields.size();
    for (std::size_t c = 0; c < header.fields.size(); ++c) {
      std::string_view name = header.fields[c];
      int index = schema_.index_of(name);
      if (index < 0) {
        return fail("unknown column \"" + std::string(name.substr(0, 100)) +
                    "\": not a field of the " + to_string(kind_) + " schema");
      }
      FieldPlan& p = plans_[static_cast<std::size_t>(index)];
      if (p.csv_column >= 0) return fail("column \"" + std::string(name) + "\" appears twice");
      p.csv_column = static_cast<int>(c);
    }
    std::string missing;
    for (const FieldPlan& p : plans_) {
      if (p.csv_column < 0 && !p.field->nullable)
        missing += (missing.empty() ? "" : ", ") + p.field->name;
    }
    if (!missing.empty())
      return fail("Input CSV is missing the following columns: [" + missing + "]");
    return true;
  }

  // Parses one chunk; its line numbers count from `first_line`. The core columns are reserved for
  // the rows of `reserve_bytes` of text: the first chunk's for the whole file, so that a commit
  // into an empty dataset can take them over and append the other chunks without reallocating.
  StagedChunk parse(const char* data, const detail::CsvChunk& chunk, std::size_t first_line,
                    std::size_t reserve_bytes) const {
    StagedChunk out;
    for (const Field* f : columns_) out.columns.emplace_back(*f);
    // Validate UTF-8 and look for NUL bytes in the whole chunk at once; only a chunk that fails
    // is checked per value.
    const bool check_bytes =
        !detail::is_valid_utf8(data + chunk.begin, chunk.end - chunk.begin) ||
        std::memchr(data + chunk.begin, '\0', chunk.end - chunk.begin) != nullptr;
    detail::CsvReader reader(data + chunk.begin, data + chunk.end, first_line);
    detail::CsvRecord rec;
    std::vector<Cell> cells(plans_.size());
    std::vector<Index> scratch;
    // Most files have a handful of event types: remember the last one instead of hashing it.
    std::string_view last_event_type;
    Index last_event_code = kNoIndex;
    const std::size_t expected_rows = (chunk.end - chunk.begin) / 24 + 16;
    const std::size_t reserved_rows = std::max(reserve_bytes / 24 + 16, expected_rows);
    // The columns are filled end to end: on huge pages a 5M-row file takes about 50,000 fewer
    // page faults, the largest part of an import's system time.
    auto reserve = [](auto& column, std::size_t rows) {
      column.reserve(rows);
      detail::advise_huge_pages(column.data(), column.capacity() * sizeof(column[0]));
    };
    reserve(out.users, reserved_rows);
    reserve(out.items, reserved_rows);
    // Small jobs (a put_* call stages its records here) size their dictionaries once instead of
    // growing them from 16 slots; large ones keep growing to the distinct ids they find.
    const std::size_t small_dict = std::min<std::size_t>(expected_rows, 1024);
    DataAccess::reserve(out.user_dict, small_dict);
    DataAccess::reserve(out.item_dict, small_dict);
    if (kind_ == DatasetKind::Interactions) {
      reserve(out.timestamps, reserved_rows);
      reserve(out.event_types, expected_rows);  // converted to 16-bit codes, never taken over
      reserve(out.values, reserved_rows);
      reserve(out.has_value, reserved_rows);
    }
    std::string reason;
    auto reject = [&](std::size_t line, std::string column, std::string why) {
      ++out.rejected;
      if (out.errors.size() < options_.max_reported_errors) {
        out.errors.push_back(RowError{line, std::move(column), std::move(why)});
      }
    };
    // Ids are interned in small batches: hash and prefetch every slot first, then insert, so the
    // table's cache misses overlap instead of queueing (the lookups dominate import time).
    struct PendingId {
      std::string_view user, item;
      std::uint64_t user_hash = 0, item_hash = 0;
    };
    constexpr std::size_t kBatch = 16;
    PendingId pending[kBatch];
    std::size_t pending_count = 0;
    const bool has_user = kind_ != DatasetKind::Items, has_item = kind_ != DatasetKind::Users;
    auto flush = [&] {
      for (std::size_t b = 0; b < pending_count; ++b) {
        const PendingId& id = pending[b];
        if (has_user) out.users.push_back(DataAccess::insert(out.user_dict, id.user, id.user_hash));
        if (has_item) out.items.push_back(DataAccess::insert(out.item_dict, id.item, id.item_hash));
      }
      pending_count = 0;
    };
    const char* chunk_begin = data + chunk.begin;
    const char* chunk_end = data + chunk.end;
    auto in_buffer = [&](std::string_view v) {
      return v.empty() || (v.data() >= chunk_begin && v.data() + v.size() <= chunk_end);
    };
    while (reader.next(rec)) {
      ++out.read;
      if (!rec.ok) {
        out.malformed_quoting = true;
        reject(rec.line, "", rec.error);
        continue;
      }
      if (rec.fields.size() != columns_in_file_) {
        reject(rec.line, "",
               "expected " + std::to_string(columns_in_file_) +
                   " fields (as in the header), found " + std::to_string(rec.fields.size()));
        continue;
      }
      bool good = true;
      for (std::size_t k = 0; k < plans_.size() && good; ++k) {
        const FieldPlan& p = plans_[k];
        std::string_view raw = p.csv_column < 0
                                   ? std::string_view()
                                   : rec.fields[static_cast<std::size_t>(p.csv_column)];
        if (!convert(p, raw, check_bytes, cells[k], reason)) {
          reject(rec.line, p.field->name, reason);
          good = false;
        }
      }
      if (!good) continue;
      // The whole row is valid: only now does it touch the staged columns.
      PendingId& id = pending[pending_count++];
      id = PendingId{};
      for (std::size_t k = 0; k < plans_.size(); ++k) {
        const FieldPlan& p = plans_[k];
        const Cell& cell = cells[k];
        switch (p.role) {
          case Role::UserId:
            id.user = cell.s;
            id.user_hash = detail::hash_bytes(cell.s.data(), cell.s.size());
            DataAccess::prefetch(out.user_dict, id.user_hash);
            break;
          case Role::ItemId:
            id.item = cell.s;
            id.item_hash = detail::hash_bytes(cell.s.data(), cell.s.size());
            DataAccess::prefetch(out.item_dict, id.item_hash);
            break;
          case Role::Timestamp:
            out.timestamps.push_back(cell.i);
            break;
          case Role::EventType:
            if (cell.null) {
              out.event_types.push_back(kNoIndex);
            } else {
              if (last_event_code == kNoIndex || cell.s != last_event_type) {
                last_event_code = DataAccess::insert(out.event_dict, cell.s);
                last_event_type = out.event_dict.name(last_event_code);
              }
              out.event_types.push_back(last_event_code);
            }
            break;
          case Role::EventValue:
            out.values.push_back(cell.null ? 0.0f : static_cast<float>(cell.d));
            out.has_value.push_back(cell.null ? 0 : 1);
            break;
          case Role::Column:
            append_cell(out.columns[static_cast<std::size_t>(p.column)], cell, scratch);
            break;
        }
      }
      ++out.rows;
      // An id unescaped into the record's own storage dies with the next record: flush now.
      if (pending_count == kBatch || !in_buffer(id.user) || !in_buffer(id.item)) flush();
    }
    flush();
    out.lines = reader.line() - first_line;
    // Fields absent from the file (or from the schema) still need one value per row.
    if (kind_ == DatasetKind::Interactions) {
      if (out.event_types.size() < out.rows) out.event_types.resize(out.rows, kNoIndex);
      if (out.values.size() < out.rows) {
        out.values.resize(out.rows, 0.0f);
        out.has_value.resize(out.rows, 0);
      }
    }
    return out;
  }

  void add_error(ImportReport& report, RowError e) const {
    ++report.errors_total;
    if (report.errors.size() < options_.max_reported_errors) report.errors.push_back(std::move(e));
  }

  const std::vector<const Field*>& columns() const { return columns_; }

 private:
  DatasetKind kind_;
  const Schema& schema_;
  const ImportOptions& options_;
  std::vector<FieldPlan> plans_;
  std::vector<const Field*> columns_;  // fields stored as Columns, in schema order
  std::size_t columns_in_file_ = 0;
};

}  // namespace

StagedImport::StagedImport() = default;
StagedImport::StagedImport(StagedImport&&) noexcept = default;
StagedImport& StagedImport::operator=(StagedImport&&) noexcept = default;
StagedImport::~StagedImport() = default;

StagedImport DatasetGroup::stage_csv_text(DatasetKind kind, std::string_view csv,
                                          const ImportOptions& options) const {
  const Schema& target_schema = schema(kind);
  StagedImport job;
  job.kind_ = kind;
  job.options_ = options;
  ImportReport& report = job.report_;
  Importer importer(kind, target_schema, options);

  const char* data = csv.data();
  std::size_t start = 0;
  if (csv.size() >= 3 && csv.substr(0, 3) == "\xEF\xBB\xBF") start = 3;  // UTF-8 byte order mark
  detail::CsvReader header_reader(data + start, data + csv.size(), 1);
  detail::CsvRecord header;
  if (!header_reader.next(header)) {
    importer.add_error(report,
                       RowError{1, "", "empty file: expected a header line naming the columns"});
    return job;
  }
  if (!importer.plan(header, report)) return job;
  const std::size_t body = static_cast<std::size_t>(header_reader.position() - data);
  // Line where the body starts: the header may span lines, so ask the reader, not the header.
  std::size_t body_line = 1 + static_cast<std::size_t>(std::count(data + start, data + body, '\n'));

  const int threads = detail::resolve_threads(options.execution.num_threads);
  const bool parallel = threads > 1 && csv.size() - body >= options.min_parallel_bytes;
  // One chunk per thread: every chunk builds its own id dictionaries, so more chunks cost more.
  std::vector<detail::CsvChunk> chunks =
      parallel
          ? detail::split_csv(data, csv.size(), body, static_cast<std::size_t>(threads), threads)
          : std::vector<detail::CsvChunk>{{body, csv.size()}};
  std::vector<StagedChunk> staged(chunks.size());
  // Chunks count lines from 0; errors are moved to file lines once all chunks are known.
  detail::parallel_for(chunks.size(), threads, [&](std::size_t c) {
    const std::size_t reserve = c == 0 ? csv.size() - body : chunks[c].end - chunks[c].begin;
    staged[c] = importer.parse(data, chunks[c], 0, reserve);
  });
  std::size_t line = body_line;
  for (StagedChunk& s : staged) {
    for (RowError& e : s.errors) e.line += line;
    line += s.lines;
  }
  // Chunk boundaries assume well-formed quoting; a file that breaks it is parsed again on one
  // thread so that the result is exactly the single-threaded one.
  const bool malformed = std::any_of(staged.begin(), staged.end(),
                                     [](const StagedChunk& s) { return s.malformed_quoting; });
  if (malformed && staged.size() > 1) {
    staged.clear();
    staged.push_back(importer.parse(data, {body, csv.size()}, body_line, csv.size() - body));
  }

  std::size_t good_rows = 0;
  for (StagedChunk& s : staged) {
    report.rows_read += s.read;
    report.rows_rejected += s.rejected;
    good_rows += s.rows;
    for (RowError& e : s.errors) importer.add_error(report, std::move(e));
    report.errors_total += s.rejected - s.errors.size();
  }
  if (report.errors_total > 0 && options.policy == ImportPolicy::AllOrNothing) {
    report.rows_discarded = good_rows;
    return job;
  }
  // A FULL import that accepted nothing would empty the dataset: refused unless the file is
  // header-only and the caller asked for that. The reason goes first, ahead of the row errors.
  if (options.mode == ImportMode::Full && good_rows == 0 &&
      (report.rows_read > 0 || !options.allow_empty)) {
    std::string reason =
        report.rows_read > 0
            ? "no row was accepted: a FULL import would empty the dataset, so it is left as it was"
            : "no data rows: a FULL import would empty the dataset (set allow_empty, or "
              "--allow-empty on the command line, to do that)";
    report.errors.insert(report.errors.begin(), RowError{header.line, "", std::move(reason)});
    if (report.errors.size() > options.max_reported_errors) report.errors.pop_back();
    ++report.errors_total;
    return job;
  }

  job.rows_ = std::make_unique<StagedImport::Rows>();
  job.rows_->chunks = std::move(staged);
  job.rows_->good_rows = good_rows;
  job.rows_->threads = threads;
  job.committable_ = true;
  return job;
}

}  // namespace tailor
