// SPDX-License-Identifier: MIT
// Bulk CSV import, staging: parse chunks in parallel into staged columns with chunk-local id
// dictionaries, and decide whether the job as a whole can be committed. Nothing here changes
// the group.
//
// Determinism: chunks are parsed in file order and each chunk's dictionary is in order of first
// appearance, so rows and error lists are identical to a single-threaded parse.
#include "data/import_stage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

  // One chunk's parse in progress: what carries over from one range of its text to the next.
  struct ChunkParse {
    StagedChunk out;
    detail::CsvRecord rec;
    std::vector<Cell> cells;
    std::vector<Index> scratch;
    // Most files have a handful of event types: the last one (a view of event_dict's copy) is
    // remembered instead of hashed.
    std::string_view last_event_type;
    Index last_event_code = kNoIndex;
    std::size_t first_line = 0, line = 0;
  };

  // A chunk's parse before its text: `chunk_bytes` of it, its line numbers counting from
  // `first_line`. The core columns are reserved for the rows of `reserve_bytes` of text: the first
  // chunk's for the whole file, so that a commit into an empty dataset can take them over and
  // append the other chunks without reallocating.
  ChunkParse start(std::size_t chunk_bytes, std::size_t reserve_bytes,
                   std::size_t first_line) const {
    ChunkParse p;
    p.first_line = p.line = first_line;
    StagedChunk& out = p.out;
    for (const Field* f : columns_) out.columns.emplace_back(*f);
    p.cells.resize(plans_.size());
    const std::size_t expected_rows = chunk_bytes / 24 + 16;
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
    return p;
  }

  // Parses the records of [begin, end), a range of the chunk's text that starts at a record
  // boundary; with more_follows, a record the range cuts short is left for the next range.
  // Returns where it stopped. Nothing kept refers to the range after it returns.
  const char* parse(ChunkParse& p, const char* begin, const char* end, bool more_follows) const {
    StagedChunk& out = p.out;
    detail::CsvRecord& rec = p.rec;
    std::vector<Cell>& cells = p.cells;
    // Validate UTF-8 and look for NUL bytes in the whole range at once; only a range that fails
    // is checked per value.
    const std::size_t bytes = static_cast<std::size_t>(end - begin);
    const bool check_bytes =
        !detail::is_valid_utf8(begin, bytes) || std::memchr(begin, '\0', bytes) != nullptr;
    detail::CsvReader reader(begin, end, p.line, more_follows);
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
    auto in_buffer = [&](std::string_view v) {
      return v.empty() || (v.data() >= begin && v.data() + v.size() <= end);
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
        const FieldPlan& plan = plans_[k];
        std::string_view raw = plan.csv_column < 0
                                   ? std::string_view()
                                   : rec.fields[static_cast<std::size_t>(plan.csv_column)];
        if (!convert(plan, raw, check_bytes, cells[k], reason)) {
          reject(rec.line, plan.field->name, reason);
          good = false;
        }
      }
      if (!good) continue;
      // The whole row is valid: only now does it touch the staged columns.
      PendingId& id = pending[pending_count++];
      id = PendingId{};
      for (std::size_t k = 0; k < plans_.size(); ++k) {
        const FieldPlan& plan = plans_[k];
        const Cell& cell = cells[k];
        switch (plan.role) {
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
              if (p.last_event_code == kNoIndex || cell.s != p.last_event_type) {
                p.last_event_code = DataAccess::insert(out.event_dict, cell.s);
                p.last_event_type = out.event_dict.name(p.last_event_code);
              }
              out.event_types.push_back(p.last_event_code);
            }
            break;
          case Role::EventValue:
            out.values.push_back(cell.null ? 0.0f : static_cast<float>(cell.d));
            out.has_value.push_back(cell.null ? 0 : 1);
            break;
          case Role::Column:
            append_cell(out.columns[static_cast<std::size_t>(plan.column)], cell, p.scratch);
            break;
        }
      }
      ++out.rows;
      // An id unescaped into the record's own storage dies with the next record: flush now.
      if (pending_count == kBatch || !in_buffer(id.user) || !in_buffer(id.item)) flush();
    }
    flush();  // the ids view the range
    p.line = reader.line();
    return reader.position();
  }

  // The chunk's rows once all its text is parsed.
  StagedChunk finish(ChunkParse& p) const {
    StagedChunk out = std::move(p.out);
    out.lines = p.line - p.first_line;
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

namespace {

// Text in memory: one range a chunk, boundaries that track quotes.
class TextSource final : public detail::CsvSource {
 public:
  explicit TextSource(std::string_view text) : text_(text) {}
  std::size_t size() const override { return text_.size(); }
  std::string_view prefix(std::size_t) override { return text_; }
  std::vector<detail::CsvChunk> split(std::size_t start, std::size_t parts, int threads) override {
    return detail::split_csv(text_.data(), text_.size(), start, parts, threads);
  }
  void read(const detail::CsvChunk& chunk,
            const std::function<const char*(const char*, const char*, bool)>& parse) override {
    parse(text_.data() + chunk.begin, text_.data() + chunk.end, false);
  }

 private:
  std::string_view text_;
};

// A regular file, read in blocks of ImportOptions::read_block_bytes per thread: an import holds a
// block per thread, not the file (and the system's fresh pages for a copy of a 150 MB file were
// a large part of a cold import's time). A record is held whole, so a quote left open holds the
// rest of the file.
class FileSource final : public detail::CsvSource {
 public:
  FileSource(int fd, std::size_t size, std::string path, std::size_t block)
      : fd_(fd), size_(size), path_(std::move(path)), block_(std::max<std::size_t>(block, 1)) {}
  std::size_t size() const override { return size_; }

  std::string_view prefix(std::size_t bytes) override {
    prefix_.resize(std::min(bytes, size_));
    read_at(prefix_.data(), prefix_.size(), 0);
    return prefix_;
  }

  // Split as text is (split_csv), the file read window by window: a file whose quoted fields hold
  // line ends (item descriptions) is then not found malformed and parsed twice.
  std::vector<detail::CsvChunk> split(std::size_t start, std::size_t parts, int threads) override {
    return detail::split_csv(size_, start, parts, threads,
                             [this](std::size_t offset, std::size_t n, char* scratch) {
                               read_at(scratch, n, offset);
                               return static_cast<const char*>(scratch);
                             });
  }

  void read(const detail::CsvChunk& chunk,
            const std::function<const char*(const char*, const char*, bool)>& parse) override {
    // The buffer holds what the last range left (a record it cut short) and then new text; it
    // doubles when one record fills it. Not zero-filled: every byte parsed was read first.
    std::size_t capacity = std::min(block_, chunk.end - chunk.begin);
    std::unique_ptr<char[]> buffer(new char[std::max<std::size_t>(capacity, 1)]);
    std::size_t held = 0, offset = chunk.begin;
    for (;;) {
      const std::size_t n = std::min(capacity - held, chunk.end - offset);
      read_at(buffer.get() + held, n, offset);
      offset += n;
      held += n;
      const bool last = offset == chunk.end;
      // Ranges end at a line end, so that only a quoted field can run past one.
      const char* end = buffer.get() + held;
      if (!last) {
        const char* newline = static_cast<const char*>(memrchr(buffer.get(), '\n', held));
        end = newline ? newline + 1 : buffer.get();
      }
      const char* stop = parse(buffer.get(), end, !last);
      if (last) return;
      const std::size_t used = static_cast<std::size_t>(stop - buffer.get());
      std::memmove(buffer.get(), stop, held - used);
      held -= used;
      if (held == capacity) {
        capacity *= 2;
        std::unique_ptr<char[]> larger(new char[capacity]);
        std::memcpy(larger.get(), buffer.get(), held);
        buffer = std::move(larger);
      }
    }
  }

  // A read that races a truncation can copy the zeros the system writes over the cut page before it
  // drops it, and then return in full. The size is set before those zeros, so a file that is
  // shorter now than when it was opened is refused rather than imported with a zeroed stretch.
  void check_unchanged() override {
    struct stat after {};
    TAILOR_THROW_IF(::fstat(fd_, &after) != 0, ErrorCode::Io, "error while reading CSV file ",
                    path_, ": ", std::strerror(errno));
    TAILOR_THROW_IF(static_cast<std::size_t>(std::max<off_t>(after.st_size, 0)) < size_,
                    ErrorCode::Io, "error while reading CSV file ", path_,
                    ": it became shorter while it was read");
  }

 private:
  // Exactly n bytes at `offset`, or an I/O error (also when the file ends first).
  void read_at(char* to, std::size_t n, std::size_t offset) const {
    for (std::size_t done = 0; done < n;) {
      const ssize_t got = ::pread(fd_, to + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      TAILOR_THROW_IF(got < 0, ErrorCode::Io, "error while reading CSV file ", path_, ": ",
                      std::strerror(errno));
      TAILOR_THROW_IF(got == 0, ErrorCode::Io, "error while reading CSV file ", path_,
                      ": it became shorter while it was read");
      done += static_cast<std::size_t>(got);
    }
  }

  int fd_;
  std::size_t size_;
  std::string path_;
  std::size_t block_;
  std::string prefix_;
};

}  // namespace

std::unique_ptr<detail::CsvSource> detail::file_csv_source(int fd, std::size_t size,
                                                           std::string path, std::size_t block) {
  return std::make_unique<FileSource>(fd, size, std::move(path), block);
}

StagedImport DatasetGroup::stage_csv(DatasetKind kind, const std::string& path,
                                     const ImportOptions& options) const {
  schema(kind);  // a missing dataset is an error before any I/O
  struct File {
    int fd = -1;
    ~File() {
      if (fd >= 0) ::close(fd);
    }
  } file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TAILOR_THROW_IF(file.fd < 0, ErrorCode::Io, "cannot open CSV file ", path, ": ",
                  std::strerror(errno));
  struct stat st {};
  TAILOR_THROW_IF(::fstat(file.fd, &st) != 0 || st.st_size < 0, ErrorCode::Io,
                  "error while reading CSV file ", path, ": ", std::strerror(errno));
  // A pipe or a character device has no size to read up to (st_size is 0): read to its end.
  if (!S_ISREG(st.st_mode)) {
    std::string data;
    char buffer[1 << 16];
    for (;;) {
      const ssize_t n = ::read(file.fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      TAILOR_THROW_IF(n < 0, ErrorCode::Io, "error while reading CSV file ", path, ": ",
                      std::strerror(errno));
      if (n == 0) break;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    return stage_csv_text(kind, data, options);
  }
  const std::unique_ptr<detail::CsvSource> source = detail::file_csv_source(
      file.fd, static_cast<std::size_t>(st.st_size), path, options.read_block_bytes);
  return stage_csv_source(kind, *source, options);
}

StagedImport DatasetGroup::stage_csv_text(DatasetKind kind, std::string_view csv,
                                          const ImportOptions& options) const {
  TextSource source(csv);
  return stage_csv_source(kind, source, options);
}

StagedImport DatasetGroup::stage_csv_source(DatasetKind kind, detail::CsvSource& source,
                                            const ImportOptions& options) const {
  const Schema& target_schema = schema(kind);
  StagedImport job;
  job.kind_ = kind;
  job.options_ = options;
  ImportReport& report = job.report_;
  Importer importer(kind, target_schema, options);

  // The header: from a prefix of the text, longer until it holds the whole header record.
  detail::CsvRecord header;
  std::size_t body = 0, body_line = 1;
  for (std::size_t want = 64 << 10;; want *= 2) {
    const std::string_view text = source.prefix(want);
    const bool whole = text.size() >= source.size();
    std::size_t start = 0;
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF")
      start = 3;  // UTF-8 byte order mark
    std::size_t end = text.size();
    if (!whole) {
      const std::size_t newline = text.rfind('\n');
      if (newline == std::string_view::npos || newline < start) continue;
      end = newline + 1;
    }
    detail::CsvReader header_reader(text.data() + start, text.data() + end, 1, !whole);
    if (header_reader.next(header)) {
      body = static_cast<std::size_t>(header_reader.position() - text.data());
      // Line where the body starts: the header may span lines, so ask the reader.
      body_line = header_reader.line();
      break;
    }
    if (whole) {
      importer.add_error(report,
                         RowError{1, "", "empty file: expected a header line naming the columns"});
      return job;
    }
  }
  if (!importer.plan(header, report)) return job;

  const std::size_t size = source.size();
  const int threads = detail::resolve_threads(options.execution.num_threads);
  const bool parallel = threads > 1 && size - body >= options.min_parallel_bytes;
  // One chunk per thread: every chunk builds its own id dictionaries, so more chunks cost more.
  std::vector<detail::CsvChunk> chunks =
      parallel ? source.split(body, static_cast<std::size_t>(threads), threads)
               : std::vector<detail::CsvChunk>{{body, size}};
  auto parse_chunk = [&](const detail::CsvChunk& chunk, std::size_t first_line,
                         std::size_t reserve) {
    auto state = importer.start(chunk.end - chunk.begin, reserve, first_line);
    source.read(chunk, [&](const char* begin, const char* end, bool more_follows) {
      return importer.parse(state, begin, end, more_follows);
    });
    return importer.finish(state);
  };
  std::vector<StagedChunk> staged(chunks.size());
  // Chunks count lines from 0; errors are moved to file lines once all chunks are known.
  detail::parallel_for(chunks.size(), threads, [&](std::size_t c) {
    const std::size_t reserve = c == 0 ? size - body : chunks[c].end - chunks[c].begin;
    staged[c] = parse_chunk(chunks[c], 0, reserve);
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
    staged.push_back(parse_chunk({body, size}, body_line, size - body));
  }
  source.check_unchanged();

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
