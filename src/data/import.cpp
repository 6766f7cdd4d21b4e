// SPDX-License-Identifier: MIT
// Bulk CSV import: parse chunks in parallel into staged columns with chunk-local id
// dictionaries, then validate the job as a whole and commit it, or change nothing.
//
// Determinism: chunks are merged in file order and each chunk's dictionary is in order of first
// appearance, so global ids, rows and error lists are identical to a single-threaded parse.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "detail/parallel.hpp"
#include "io/csv.hpp"
#include "io/json.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

// What a schema field is for the importer.
enum class Role { UserId, ItemId, Timestamp, EventType, EventValue, Column };

struct FieldPlan {
  const Field* field = nullptr;
  Role role = Role::Column;
  int csv_column = -1;  // -1: absent from the file (the field is nullable)
  int column = -1;      // index into the staged / target columns for Role::Column
};

struct Cell {
  bool null = false;
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string_view s;
};

// Number of UTF-8 code points in the first `bytes` bytes, and the byte length of the first
// `max_chars` code points.
std::size_t utf8_prefix_bytes(std::string_view s, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return i;
      ++chars;
    }
  }
  return s.size();
}

std::size_t utf8_length(std::string_view s) {
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return chars;
}

// Parses the common simple decimals ("1", "-3.25") exactly and fast: with at most 15 digits the
// mantissa is exact in a double and one division by an exact power of ten rounds correctly.
// Returns false for anything else, which then goes to std::from_chars.
bool parse_simple_decimal(std::string_view raw, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  std::size_t i = 0;
  bool negative = false;
  if (raw[0] == '-') {
    negative = true;
    i = 1;
  }
  std::uint64_t mantissa = 0;
  int digits = 0, fraction = 0;
  bool dot = false;
  for (; i < raw.size(); ++i) {
    char c = raw[i];
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      ++digits;
      fraction += dot;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15) return false;
  double v = static_cast<double>(mantissa) / kPow10[fraction];
  out = negative ? -v : v;
  return true;
}

// Whether a number that std::from_chars found out of range is too small (it underflows to
// zero) rather than too large: its decimal exponent, leading digit's place plus the written
// exponent, is negative. `raw` is a valid decimal number here.
bool underflows(std::string_view raw) {
  std::size_t i = raw[0] == '-' || raw[0] == '+' ? 1 : 0;
  long long place = 0;  // decimal place of the first non-zero digit
  bool found = false, dot = false;
  long long int_digits = 0, leading_zeros = 0;
  for (; i < raw.size() && raw[i] != 'e' && raw[i] != 'E'; ++i) {
    if (raw[i] == '.') {
      dot = true;
    } else if (!found && raw[i] == '0') {
      leading_zeros += dot;
    } else {
      found = true;
      int_digits += !dot;
    }
  }
  place = int_digits > 0 ? int_digits - 1 : -leading_zeros - 1;
  if (i < raw.size()) {
    std::string_view exponent = raw.substr(i + 1);
    if (!exponent.empty() && exponent[0] == '+') exponent.remove_prefix(1);
    long long e = 0;
    auto [end, ec] = std::from_chars(exponent.data(), exponent.data() + exponent.size(), e);
    // An exponent too long for a long long decides alone.
    if (ec == std::errc::result_out_of_range) return !exponent.empty() && exponent[0] == '-';
    place += e;
  }
  return place < 0;
}

// Parses a float or double; false when `raw` is not a number or overflows the type. A value too
// small for the type rounds to zero (from_chars calls that out of range; it is not an error).
template <typename Real>
bool parse_real(std::string_view raw, double& out, bool& overflow) {
  Real v = 0;
  auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  overflow = false;
  if (end != raw.data() + raw.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    if (!underflows(raw)) {
      overflow = true;
      return false;
    }
    out = raw[0] == '-' ? -0.0 : 0.0;
    return true;
  }
  out = v;
  return ec == std::errc();
}

// Converts one raw CSV value for `field`. Returns false with `reason` set when it is invalid.
// `check_bytes`: the chunk holds invalid UTF-8 or a NUL byte, so each value is checked.
bool convert(const FieldPlan& plan, std::string_view raw, bool check_bytes, Cell& out,
             std::string& reason) {
  const Field& f = *plan.field;
  out.null = false;
  if (raw.empty()) {
    if (f.nullable) {
      out.null = true;
      return true;
    }
    reason = "empty value for a required " + std::string(to_string(f.type)) + " field";
    return false;
  }
  if (check_bytes && raw.find('\0') != std::string_view::npos) {
    reason = "contains a NUL byte, which no value may hold";
    return false;
  }
  if (check_bytes && !detail::is_valid_utf8(raw.data(), raw.size())) {
    reason = "invalid UTF-8";
    return false;
  }
  switch (f.type) {
    case FieldType::Int:
    case FieldType::Long: {
      auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), out.i);
      bool ok = ec == std::errc() && end == raw.data() + raw.size();
      if (ok && f.type == FieldType::Int && (out.i < INT32_MIN || out.i > INT32_MAX)) {
        reason = "value " + std::string(raw) + " is out of range for an int (32 bits)";
        return false;
      }
      if (!ok) {
        reason = ec == std::errc::result_out_of_range
                     ? "value " + std::string(raw) + " is out of range for a long (64 bits)"
                     : "not a valid " + std::string(to_string(f.type)) + ": \"" +
                           std::string(raw.substr(0, 40)) + "\"";
        return false;
      }
      return true;
    }
    case FieldType::Float:
    case FieldType::Double: {
      bool ok, overflow = false;
      if (parse_simple_decimal(raw, out.d)) {
        if (f.type == FieldType::Float) out.d = static_cast<float>(out.d);
        ok = true;
      } else if (f.type == FieldType::Float) {
        ok = parse_real<float>(raw, out.d, overflow);
      } else {
        ok = parse_real<double>(raw, out.d, overflow);
      }
      if (overflow) {
        reason = "value " + std::string(raw.substr(0, 40)) + " is out of range for a " +
                 std::string(to_string(f.type));
        return false;
      }
      if (!ok || !std::isfinite(out.d)) {
        reason = "not a valid finite " + std::string(to_string(f.type)) + ": \"" +
                 std::string(raw.substr(0, 40)) + "\"";
        return false;
      }
      return true;
    }
    case FieldType::Boolean:
      if (raw == "true" || raw == "false") {
        out.b = raw == "true";
        return true;
      }
      reason = "not a boolean: \"" + std::string(raw.substr(0, 40)) +
               "\" (expected lower-case true or false)";
      return false;
    case FieldType::String: break;
  }
  std::size_t limit = Limits::kMaxStringLength;
  const char* what = "value";
  if (plan.role == Role::UserId || plan.role == Role::ItemId || plan.role == Role::EventType) {
    limit = Limits::kMaxIdLength;
    what = plan.role == Role::EventType ? "event type" : "id";
  } else if (f.categorical) {
    limit = Limits::kMaxCategoricalLength;
    what = "categorical value";
  } else if (f.textual) {
    // Textual values are truncated, not rejected (as Personalize does).
    out.s = raw.substr(0, utf8_prefix_bytes(raw, Limits::kMaxTextualLength));
    return true;
  }
  if (raw.size() > limit && utf8_length(raw) > limit) {
    reason = std::string(what) + " of " + std::to_string(utf8_length(raw)) +
             " characters exceeds the limit of " + std::to_string(limit);
    return false;
  }
  out.s = raw;
  return true;
}

void append_cell(Column& column, const Cell& cell, std::vector<Index>& scratch) {
  const Field& f = column.field();
  if (cell.null) {
    column.append_null();
  } else if (f.is_integral()) {
    column.append_int(cell.i);
  } else if (f.is_numeric()) {
    column.append_real(cell.d);
  } else if (f.type == FieldType::Boolean) {
    column.append_bool(cell.b);
  } else if (f.categorical) {
    // Multi-valued with '|'; empty parts ("a||b") carry no value.
    scratch.clear();
    std::string_view rest = cell.s;
    while (!rest.empty()) {
      std::size_t bar = rest.find('|');
      std::string_view part = rest.substr(0, bar);
      if (!part.empty()) scratch.push_back(column.intern(part));
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
    column.append_codes(scratch.data(), scratch.size());
  } else {
    column.append_text(cell.s);
  }
}

// The parsed, validated rows of one chunk, with chunk-local dictionaries.
struct StagedChunk {
  IdMap user_dict, item_dict, event_dict;
  std::vector<Index> users, items, event_types;  // local codes; kNoIndex = no event type
  std::vector<std::int64_t> timestamps;
  std::vector<float> values;
  std::vector<std::uint8_t> has_value;
  std::vector<Column> columns;
  std::size_t rows = 0, read = 0, rejected = 0;
  std::size_t lines = 0;  // lines the chunk spans
  std::vector<RowError> errors;  // the first `max_reported_errors` of this chunk
  bool malformed_quoting = false;
};

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
      if (f.name == "USER_ID") p.role = Role::UserId;
      else if (f.name == "ITEM_ID") p.role = Role::ItemId;
      else if (kind_ == DatasetKind::Interactions && f.name == "TIMESTAMP") p.role = Role::Timestamp;
      else if (kind_ == DatasetKind::Interactions && f.name == "EVENT_TYPE") p.role = Role::EventType;
      else if (kind_ == DatasetKind::Interactions && f.name == "EVENT_VALUE") p.role = Role::EventValue;
      if (p.role == Role::Column) p.column = static_cast<int>(columns_.size()), columns_.push_back(&f);
      plans_.push_back(p);
    }
    columns_in_file_ = header.fields.size();
    for (std::size_t c = 0; c < header.fields.size(); ++c) {
      std::string_view name = header.fields[c];
      int index = schema_.index_of(name);
      if (index < 0) {
        return fail("unknown column \"" + std::string(name.substr(0, 100)) + "\": not a field of the " +
                    to_string(kind_) + " schema");
      }
      FieldPlan& p = plans_[static_cast<std::size_t>(index)];
      if (p.csv_column >= 0) return fail("column \"" + std::string(name) + "\" appears twice");
      p.csv_column = static_cast<int>(c);
    }
    std::string missing;
    for (const FieldPlan& p : plans_) {
      if (p.csv_column < 0 && !p.field->nullable) missing += (missing.empty() ? "" : ", ") + p.field->name;
    }
    if (!missing.empty()) return fail("Input CSV is missing the following columns: [" + missing + "]");
    return true;
  }

  // Parses one chunk; its line numbers count from `first_line`.
  StagedChunk parse(const char* data, const detail::CsvChunk& chunk, std::size_t first_line) const {
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
    out.users.reserve(expected_rows);
    out.items.reserve(expected_rows);
    // Small jobs (a put_* call stages its records here) size their dictionaries once instead of
    // growing them from 16 slots; large ones keep growing to the distinct ids they find.
    const std::size_t small_dict = std::min<std::size_t>(expected_rows, 1024);
    out.user_dict.reserve(small_dict);
    out.item_dict.reserve(small_dict);
    if (kind_ == DatasetKind::Interactions) {
      out.timestamps.reserve(expected_rows);
      out.event_types.reserve(expected_rows);
      out.values.reserve(expected_rows);
      out.has_value.reserve(expected_rows);
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
        if (has_user) out.users.push_back(out.user_dict.insert(pending[b].user, pending[b].user_hash));
        if (has_item) out.items.push_back(out.item_dict.insert(pending[b].item, pending[b].item_hash));
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
        reject(rec.line, "", "expected " + std::to_string(columns_in_file_) +
                                 " fields (as in the header), found " +
                                 std::to_string(rec.fields.size()));
        continue;
      }
      bool good = true;
      for (std::size_t k = 0; k < plans_.size() && good; ++k) {
        const FieldPlan& p = plans_[k];
        std::string_view raw = p.csv_column < 0 ? std::string_view() : rec.fields[static_cast<std::size_t>(p.csv_column)];
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
            id.user_hash = IdMap::hash(cell.s);
            out.user_dict.prefetch(id.user_hash);
            break;
          case Role::ItemId:
            id.item = cell.s;
            id.item_hash = IdMap::hash(cell.s);
            out.item_dict.prefetch(id.item_hash);
            break;
          case Role::Timestamp: out.timestamps.push_back(cell.i); break;
          case Role::EventType:
            if (cell.null) {
              out.event_types.push_back(kNoIndex);
            } else {
              if (last_event_code == kNoIndex || cell.s != last_event_type) {
                last_event_code = out.event_dict.insert(cell.s);
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

}  // namespace

// The staged rows of a job: its chunks in file order.
struct StagedImport::Rows {
  std::vector<StagedChunk> chunks;
  std::size_t good_rows = 0;
  int threads = 1;
};

StagedImport::StagedImport() = default;
StagedImport::StagedImport(StagedImport&&) noexcept = default;
StagedImport& StagedImport::operator=(StagedImport&&) noexcept = default;
StagedImport::~StagedImport() = default;

ImportReport DatasetGroup::import_csv_text(DatasetKind kind, std::string_view csv,
                                           const ImportOptions& options) {
  return commit(stage_csv_text(kind, csv, options));
}

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
    importer.add_error(report, RowError{1, "", "empty file: expected a header line naming the columns"});
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
      parallel ? detail::split_csv(data, csv.size(), body, static_cast<std::size_t>(threads), threads)
               : std::vector<detail::CsvChunk>{{body, csv.size()}};
  std::vector<StagedChunk> staged(chunks.size());
  // Chunks count lines from 0; errors are moved to file lines once all chunks are known.
  detail::parallel_for(chunks.size(), threads,
                       [&](std::size_t c) { staged[c] = importer.parse(data, chunks[c], 0); });
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
    staged.push_back(importer.parse(data, {body, csv.size()}, body_line));
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
    auto user_lut = merge_dictionaries(staged, &StagedChunk::user_dict,
                                       [&](std::string_view s) { return user_ids_.insert(s); });
    auto item_lut = merge_dictionaries(staged, &StagedChunk::item_dict,
                                       [&](std::string_view s) { return item_ids_.insert(s); });
    auto event_lut = merge_dictionaries(staged, &StagedChunk::event_dict, [&](std::string_view s) {
      return static_cast<Index>(interactions_.intern_event_type(s));
    });
    if (options.mode == ImportMode::Full) interactions_.clear();
    const std::size_t first_row = interactions_.size();
    std::vector<std::size_t> offsets(staged.size() + 1, first_row);
    for (std::size_t c = 0; c < staged.size(); ++c) offsets[c + 1] = offsets[c] + staged[c].rows;
    interactions_.resize_core(offsets.back());
    // Core columns: chunks write disjoint row ranges, in parallel.
    detail::parallel_for(staged.size(), threads, [&](std::size_t c) {
      const StagedChunk& s = staged[c];
      Interactions& t = interactions_;
      for (std::size_t r = 0, row = offsets[c]; r < s.rows; ++r, ++row) {
        Index et = s.event_types[r];
        t.users_[row] = user_lut[c][s.users[r]];
        t.items_[row] = item_lut[c][s.items[r]];
        t.timestamps_[row] = s.timestamps[r];
        t.event_types_[row] =
            et == kNoIndex ? kNoEventType : static_cast<std::uint16_t>(event_lut[c][et]);
        t.event_values_[row] = s.values[r];
        t.value_present_[row] = s.has_value[r];
      }
    });
    // Per-user row lists (what filters read as a user's history).
    if (options.mode == ImportMode::Full) user_rows_.clear();
    user_rows_.resize(user_ids_.size());
    for (std::size_t row = first_row; row < offsets.back(); ++row) {
      user_rows_[interactions_.users()[row]].push_back(static_cast<std::uint32_t>(row));
    }
    // Extra columns re-intern their categorical values, so they are appended in order.
    auto& extras = interactions_.extra_columns_mut();
    for (std::size_t k = 0; k < extras.size(); ++k) {
      extras[k].reserve(offsets.back());
      for (const StagedChunk& s : staged) {
        for (std::size_t r = 0; r < s.rows; ++r) extras[k].append_from(s.columns[k], r);
      }
    }
  } else {
    EntityTable& table = kind == DatasetKind::Users ? *users_ : *items_;
    IdMap& ids = kind == DatasetKind::Users ? user_ids_ : item_ids_;
    if (options.mode == ImportMode::Full) table.clear();
    auto& columns = table.columns_mut();
    for (const StagedChunk& s : staged) {
      const IdMap& dict = kind == DatasetKind::Users ? s.user_dict : s.item_dict;
      const std::vector<Index>& local = kind == DatasetKind::Users ? s.users : s.items;
      for (std::size_t r = 0; r < s.rows; ++r) {
        for (std::size_t k = 0; k < columns.size(); ++k) columns[k].append_from(s.columns[k], r);
        table.commit_row(ids.insert(dict.name(local[r])));
      }
    }
    table.compact_if_sparse();
  }
  report.rows_imported = good_rows;
  report.applied = true;
  if (kind == DatasetKind::Items || item_ids_.size() != items_before) ++items_version_;
  return std::move(report);
}

}  // namespace tailor
