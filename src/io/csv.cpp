// SPDX-License-Identifier: MIT
// RFC 4180 reader and the quote-aware record-boundary splitter.
#include "io/csv.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "detail/parallel.hpp"
#include "tailor/io/csv.hpp"

namespace tailor {

std::string ImportReport::summary() const {
  std::string out = "rows read " + std::to_string(rows_read) + ", imported " +
                    std::to_string(rows_imported) + ", rejected " + std::to_string(rows_rejected) +
                    ", discarded " + std::to_string(rows_discarded) +
                    (applied ? " (applied)" : " (nothing applied)");
  for (const RowError& e : errors) {
    out += "\n  line " + std::to_string(e.line) + (e.column.empty() ? "" : ", column " + e.column) +
           ": " + e.reason;
  }
  if (errors_total > errors.size()) {
    out += "\n  ... and " + std::to_string(errors_total - errors.size()) + " more errors";
  }
  return out;
}

namespace detail {

namespace {
// Characters that end an unquoted field (or make it malformed).
struct SpecialTable {
  bool table[256] = {};
  constexpr SpecialTable() {
    table[static_cast<unsigned char>(',')] = true;
    table[static_cast<unsigned char>('\n')] = true;
    table[static_cast<unsigned char>('\r')] = true;
    table[static_cast<unsigned char>('"')] = true;
  }
  constexpr bool operator[](unsigned char c) const { return table[c]; }
};
constexpr SpecialTable kSpecial;

// The first special character in [p, end), or end. Sixteen bytes at a time where the CPU has
// SSE2 (every x86-64 does): most fields are found in one step.
inline const char* find_special(const char* p, const char* end) {
#ifdef __SSE2__
  const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r'), quote = _mm_set1_epi8('"');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, newline)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)));
    const int mask = _mm_movemask_epi8(hits);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && !kSpecial[static_cast<unsigned char>(*p)]) ++p;
  return p;
}
}  // namespace

bool CsvReader::skip_to_line_end() {
  const void* nl = std::memchr(p_, '\n', static_cast<std::size_t>(end_ - p_));
  p_ = nl ? static_cast<const char*>(nl) + 1 : end_;
  ++line_;
  return nl != nullptr;
}

bool CsvReader::read_plain_line(CsvRecord& rec) {
#ifdef __SSE2__
  // The next 64 bytes, as bit masks of their commas, newlines, and quotes or carriage returns. A
  // line that ends in them with neither a quote nor a carriage return (most lines of most files)
  // is split at its commas here, at once; any other line is read field by field below, with the
  // same result for a line of this kind.
  constexpr std::ptrdiff_t kWindow = 64;
  if (end_ - p_ < kWindow) return false;
  const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r'), quote = _mm_set1_epi8('"');
  std::uint64_t commas = 0, newlines = 0, others = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_ + 16 * k));
    const auto bits = [&](__m128i hits) {
      return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(hits)))
             << (16 * k);
    };
    commas |= bits(_mm_cmpeq_epi8(v, comma));
    newlines |= bits(_mm_cmpeq_epi8(v, newline));
    others |= bits(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)));
  }
  if (newlines == 0) return false;
  const int end = __builtin_ctzll(newlines);
  const std::uint64_t before = (std::uint64_t{1} << end) - 1;
  if ((others & before) != 0) return false;
  // The last record's fields are overwritten in place (most lines have as many): a store per
  // field, not a call.
  std::size_t count = 0;
  const auto add = [&](const char* begin, const char* stop) {
    const std::string_view field(begin, static_cast<std::size_t>(stop - begin));
    if (count < rec.fields.size())
      rec.fields[count] = field;
    else
      rec.fields.push_back(field);
    ++count;
  };
  const char* start = p_;
  for (std::uint64_t c = commas & before; c != 0; c &= c - 1) {
    const char* at = p_ + __builtin_ctzll(c);
    add(start, at);
    start = at + 1;
  }
  add(start, p_ + end);
  rec.fields.resize(count);
  p_ += end + 1;
  ++line_;
  return true;
#else
  (void)rec;
  return false;
#endif
}

bool CsvReader::next(CsvRecord& rec) {
  // Blank lines are not records.
  while (p_ < end_ && (*p_ == '\n' || (*p_ == '\r' && p_ + 1 < end_ && p_[1] == '\n'))) {
    p_ += *p_ == '\r' ? 2 : 1;
    ++line_;
  }
  if (p_ >= end_) return false;
  if (!rec.owned.empty()) rec.owned.clear();
  rec.ok = true;
  rec.error.clear();
  rec.line = line_;
  if (read_plain_line(rec)) return true;
  rec.fields.clear();
  // A record the range ends before its end of line: with more text to come, left for the next
  // block (true); otherwise the end of the text ends it (false).
  const char* const start = p_;
  const auto cut_short = [&] {
    if (!more_follows_) return false;
    p_ = start;
    line_ = rec.line;
    incomplete_ = true;
    return true;
  };

  for (;;) {
    if (p_ < end_ && *p_ == '"') {
      // Quoted field: runs to the closing quote; "" stands for one quote.
      ++p_;
      const char* text = p_;
      bool doubled = false;
      const char* close = nullptr;
      while (p_ < end_) {
        const char* q =
            static_cast<const char*>(std::memchr(p_, '"', static_cast<std::size_t>(end_ - p_)));
        if (!q) break;
        line_ += static_cast<std::size_t>(std::count(p_, q, '\n'));
        if (q + 1 < end_ && q[1] == '"') {
          doubled = true;
          p_ = q + 2;
          continue;
        }
        close = q;
        break;
      }
      if (!close) {
        if (cut_short()) return false;
        rec.ok = false;
        rec.error = "unterminated quoted field (no closing quote before the end of the file)";
        p_ = end_;
        return true;
      }
      if (doubled) {
        std::string& s = rec.owned.emplace_back();
        s.reserve(static_cast<std::size_t>(close - text));
        for (const char* c = text; c < close; ++c) {
          s.push_back(*c);
          if (*c == '"') ++c;  // skip the second quote of a pair
        }
        rec.fields.emplace_back(s);
      } else {
        rec.fields.emplace_back(text, static_cast<std::size_t>(close - text));
      }
      p_ = close + 1;
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ >= end_) return !cut_short();
      if (*p_ == '\n' || (*p_ == '\r' && p_ + 1 < end_ && p_[1] == '\n')) {
        p_ += *p_ == '\r' ? 2 : 1;
        ++line_;
        return true;
      }
      rec.ok = false;
      rec.error = std::string("unexpected character '") + *p_ +
                  "' after a closing quote (expected a comma or the end of the line)";
      return skip_to_line_end() || !cut_short();
    }
    // Unquoted field: runs to a comma or the end of the line.
    const char* field = p_;
    for (;;) {
      p_ = find_special(p_, end_);
      if (p_ < end_ && *p_ == '\r' && !(p_ + 1 < end_ && p_[1] == '\n')) {  // a lone CR is data
        ++p_;
        continue;
      }
      break;
    }
    rec.fields.emplace_back(field, static_cast<std::size_t>(p_ - field));
    if (p_ >= end_) return !cut_short();
    char c = *p_;
    if (c == ',') {
      ++p_;
      if (p_ >= end_) {  // a trailing comma ends the file: one more, empty field
        if (cut_short()) return false;
        rec.fields.emplace_back();
        return true;
      }
      continue;
    }
    if (c == '"') {
      rec.ok = false;
      rec.error =
          "quote inside an unquoted field (a field containing quotes must be quoted, "
          "with each quote doubled)";
      return skip_to_line_end() || !cut_short();
    }
    p_ += c == '\r' ? 2 : 1;
    ++line_;
    return true;
  }
}

std::size_t count_quotes(const char* b, const char* e) {
  // memchr skips quote-free stretches at memory speed; most files have few quotes.
  std::size_t n = 0;
  while (b < e) {
    const void* q = std::memchr(b, '"', static_cast<std::size_t>(e - b));
    if (!q) break;
    ++n;
    b = static_cast<const char*>(q) + 1;
  }
  return n;
}

std::vector<CsvChunk> split_csv(std::size_t size, std::size_t start, std::size_t parts, int threads,
                                const CsvBytes& bytes) {
  std::vector<CsvChunk> chunks;
  if (start >= size) return chunks;
  const std::size_t span = size - start;
  parts = std::max<std::size_t>(1, std::min(parts, span / 4096 + 1));
  if (parts == 1) {
    chunks.push_back({start, size});
    return chunks;
  }
  // The text is looked at in windows: a file's are read into a buffer this size.
  constexpr std::size_t kWindow = 256 << 10;
  // Pass 1 (parallel): quotes in each equal slice but the last. Whether a position is inside a
  // quoted field is the parity of the quotes before it: a doubled quote toggles twice.
  std::vector<std::size_t> quotes(parts, 0), bounds(parts + 1);
  for (std::size_t k = 0; k <= parts; ++k) bounds[k] = start + span * k / parts;
  parallel_for(parts - 1, threads, [&](std::size_t k) {
    std::unique_ptr<char[]> scratch(new char[kWindow]);
    for (std::size_t at = bounds[k]; at < bounds[k + 1];) {
      const std::size_t n = std::min(kWindow, bounds[k + 1] - at);
      const char* window = bytes(at, n, scratch.get());
      quotes[k] += count_quotes(window, window + n);
      at += n;
    }
  });
  // Pass 2: from each slice start, move to just after the first newline outside quotes.
  std::unique_ptr<char[]> scratch(new char[kWindow]);
  std::size_t quote_prefix = 0;
  std::size_t previous = start;
  for (std::size_t k = 1; k < parts; ++k) {
    quote_prefix += quotes[k - 1];
    bool inside = (quote_prefix & 1) != 0;
    std::size_t boundary = 0;
    for (std::size_t at = bounds[k]; boundary == 0 && at < size;) {
      const std::size_t n = std::min(kWindow, size - at);
      const char* window = bytes(at, n, scratch.get());
      for (std::size_t i = 0; i < n; ++i) {
        if (window[i] == '"') {
          inside = !inside;
        } else if (window[i] == '\n' && !inside) {
          boundary = at + i + 1;
          break;
        }
      }
      at += n;
    }
    if (boundary == 0) break;  // no record boundary past this slice's start
    if (boundary <= previous) continue;
    chunks.push_back({previous, boundary});
    previous = boundary;
  }
  if (previous < size) chunks.push_back({previous, size});
  return chunks;
}

std::vector<CsvChunk> split_csv(const char* data, std::size_t size, std::size_t start,
                                std::size_t parts, int threads) {
  return split_csv(size, start, parts, threads,
                   [data](std::size_t offset, std::size_t, char*) { return data + offset; });
}

}  // namespace detail
}  // namespace tailor
