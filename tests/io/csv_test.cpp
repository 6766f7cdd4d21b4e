// SPDX-License-Identifier: MIT
// The RFC 4180 record reader and the quote-aware splitter.
#include "io/csv.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tailor::detail {
namespace {

std::vector<std::vector<std::string>> read_all(const std::string& text,
                                               std::vector<std::size_t>* lines = nullptr) {
  CsvReader reader(text.data(), text.data() + text.size(), 1);
  CsvRecord rec;
  std::vector<std::vector<std::string>> out;
  while (reader.next(rec)) {
    EXPECT_TRUE(rec.ok) << rec.error;
    out.emplace_back(rec.fields.begin(), rec.fields.end());
    if (lines) lines->push_back(rec.line);
  }
  return out;
}

TEST(IoCsv, ReadsPlainQuotedAndEmptyFields) {
  std::vector<std::size_t> lines;
  auto rows =
      read_all("a,b,c\n\"x,y\",\"he said \"\"hi\"\"\",\n\"multi\nline\",,z\r\n\nlast", &lines);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x,y", "he said \"hi\"", ""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"multi\nline", "", "z"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"last"}));
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 3, 6}));
}

TEST(IoCsv, LoneCarriageReturnIsData) {
  auto rows = read_all("a\rb,c\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "a\rb");
}

// Records of `text` read from a buffer of exactly its size (nothing readable past its end).
std::vector<std::vector<std::string>> read_exact(const std::string& text, bool* all_ok) {
  std::unique_ptr<char[]> buffer(new char[text.size() + 1]);
  std::copy(text.begin(), text.end(), buffer.get());
  CsvReader reader(buffer.get(), buffer.get() + text.size(), 1);
  CsvRecord rec;
  std::vector<std::vector<std::string>> out;
  *all_ok = true;
  while (reader.next(rec)) {
    *all_ok = *all_ok && rec.ok;
    out.emplace_back(rec.fields.begin(), rec.fields.end());
  }
  return out;
}

TEST(IoCsv, EverySeparatorIsFoundAtEveryPlaceInLongFieldsAndAtTheEnd) {
  using Rows = std::vector<std::vector<std::string>>;
  for (std::size_t before = 0; before < 40; ++before) {
    for (std::size_t after = 0; after < 20; ++after) {
      const std::string x(before, 'x'), y(after, 'y');
      bool ok = false;
      EXPECT_EQ(read_exact(x + "," + y, &ok), (Rows{{x, y}})) << before << "," << after;
      EXPECT_TRUE(ok);
      Rows lines;  // a line with nothing before its end is blank, and skipped
      if (before) lines.push_back({x});
      if (after) lines.push_back({y});
      EXPECT_EQ(read_exact(x + "\n" + y, &ok), lines) << before << "," << after;
      EXPECT_EQ(read_exact(x + "\r\n" + y, &ok), lines) << before << "," << after;
      EXPECT_EQ(read_exact(x + "\r" + y, &ok), (Rows{{x + "\r" + y}})) << before << "," << after;
      EXPECT_EQ(read_exact(x + y + "\r", &ok), (Rows{{x + y + "\r"}})) << before << "," << after;
      EXPECT_TRUE(ok);
      if (before > 0) {
        read_exact(x + "\"" + y + "\n", &ok);
        EXPECT_FALSE(ok) << "a quote inside an unquoted field, after " << before << " bytes";
      }
    }
  }
}

TEST(IoCsv, LinesOfEveryLengthReadTheSameWhereverTheyEndAndWhateverFollows) {
  // Plain lines of 1 to 90 bytes (read at once when they end within 64 bytes of their start),
  // mixed with quoted lines, CRLF endings and lone carriage returns (read field by field).
  std::mt19937 rng(3);
  std::string text;
  std::vector<std::vector<std::string>> expected;
  for (int round = 0; round < 4; ++round) {
    for (std::size_t length = 1; length <= 90; ++length) {
      std::string line;
      std::vector<std::string> fields(1);
      for (std::size_t k = 0; k < length; ++k) {
        if (rng() % 5 == 0) {
          line += ',';
          fields.emplace_back();
        } else {
          const char c = static_cast<char>('a' + rng() % 26);
          line += c;
          fields.back() += c;
        }
      }
      text += line + "\n";
      expected.push_back(fields);
      switch ((length + round) % 9) {
        case 0:
          text += "\"p,q\",r\n";
          expected.push_back({"p,q", "r"});
          break;
        case 3:
          text += "u,v\r\n";
          expected.push_back({"u", "v"});
          break;
        case 5:
          text += "w\rx,y\n";
          expected.push_back({"w\rx", "y"});
          break;
        case 7:
          text += "\n";  // a blank line
          break;
        default:
          break;
      }
    }
  }
  text += "last,line";
  expected.push_back({"last", "line"});
  bool ok = false;
  EXPECT_EQ(read_exact(text, &ok), expected);
  EXPECT_TRUE(ok);
  std::vector<std::size_t> lines;
  read_all(text, &lines);
  EXPECT_EQ(lines.back(), static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
}

TEST(IoCsv, TrailingCommaAtEndOfFileIsAnEmptyField) {
  auto rows = read_all("a,");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", ""}));
}

TEST(IoCsv, MalformedQuotingIsReportedAndReadingGoesOn) {
  const std::string text = "a\"b,c\n\"open,d\ne,f\n\"x\"y,z\ng,h\n\"never closed";
  CsvReader reader(text.data(), text.data() + text.size(), 1);
  CsvRecord rec;
  std::vector<bool> ok;
  std::vector<std::string> errors;
  while (reader.next(rec)) {
    ok.push_back(rec.ok);
    errors.push_back(rec.error);
  }
  ASSERT_GE(ok.size(), 3u);
  EXPECT_FALSE(ok[0]);
  EXPECT_NE(errors[0].find("quote inside an unquoted field"), std::string::npos);
  EXPECT_FALSE(ok.back());
}

// What a reader gives for a text: each record's fields, line, and error, and its lines at the end.
struct Read {
  std::vector<std::vector<std::string>> fields;
  std::vector<std::size_t> lines;
  std::vector<std::string> errors;
  std::size_t last_line = 0;
};

// Reads `text` in two ranges, [0, cut) with more to follow and then from where that stopped to
// the end, as a file read in blocks is.
Read read_in_two(const std::string& text, std::size_t cut) {
  Read out;
  CsvRecord rec;
  auto take = [&](CsvReader& reader) {
    while (reader.next(rec)) {
      out.fields.emplace_back(rec.fields.begin(), rec.fields.end());
      out.lines.push_back(rec.line);
      out.errors.push_back(rec.ok ? "" : rec.error);
    }
  };
  CsvReader first(text.data(), text.data() + cut, 1, true);
  take(first);
  EXPECT_TRUE(first.position() >= text.data() && first.position() <= text.data() + cut);
  if (first.position() < text.data() + cut) {
    EXPECT_TRUE(first.incomplete()) << "cut " << cut;
  }
  CsvReader rest(first.position(), text.data() + text.size(), first.line());
  take(rest);
  EXPECT_FALSE(rest.incomplete());
  out.last_line = rest.line();
  return out;
}

TEST(IoCsv, ARecordCutShortByTheRangeIsLeftWholeForTheNextBlock) {
  // Every cut of texts with quoted commas and line ends, doubled quotes, CRLF, a lone CR, blank
  // lines, malformed quoting and no final line end reads as the whole text does: a record the
  // first range cuts short is read again, whole, from its start and its line.
  const std::vector<std::string> texts = {
      "a,b,c\n\"x,y\",\"he said \"\"hi\"\"\",\n\"multi\nline\",,z\r\n\nlast",
      "h\n\"a\nb\nc\",\"\"\"\"\r\n\r\n1,2,\n\"x\"y,3\n4,\"5\n",
      "k,v\nab\rc,d\n\"\",\n,\n\"q\"\"\n\"\"\",e\nz,\"unterminated\nx,y\n", "one\ntwo\nthree\n"};
  for (const std::string& text : texts) {
    const Read whole = read_in_two(text, 0);  // nothing in the first range
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      const Read split = read_in_two(text, cut);
      ASSERT_EQ(split.fields, whole.fields) << "cut " << cut << " of " << text;
      ASSERT_EQ(split.lines, whole.lines) << "cut " << cut;
      ASSERT_EQ(split.errors, whole.errors) << "cut " << cut;
      ASSERT_EQ(split.last_line, whole.last_line) << "cut " << cut;
    }
  }
  // Reading the whole texts directly agrees.
  std::vector<std::size_t> lines;
  const auto rows = read_all("h\n\"a\nb\"\n", &lines);
  EXPECT_EQ(read_in_two("h\n\"a\nb\"\n", 4).fields, rows);
}

TEST(IoCsv, SplitFindsRecordBoundariesOutsideQuotes) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += i % 3 == 0 ? "\"quoted\nnewline, and \"\"quotes\"\"\",1\n" : "plain,2\n";
  }
  std::vector<CsvChunk> chunks = split_csv(text.data(), text.size(), 0, 7, 2);
  ASSERT_GT(chunks.size(), 1u);
  EXPECT_EQ(chunks.front().begin, 0u);
  EXPECT_EQ(chunks.back().end, text.size());
  std::size_t records = 0;
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    if (c > 0) {
      EXPECT_EQ(chunks[c].begin, chunks[c - 1].end);
    }
    EXPECT_EQ(text[chunks[c].begin - (c > 0 ? 1 : 0)], c > 0 ? '\n' : text[0]);
    CsvReader reader(text.data() + chunks[c].begin, text.data() + chunks[c].end, 1);
    CsvRecord rec;
    while (reader.next(rec)) {
      ASSERT_TRUE(rec.ok) << rec.error;
      ASSERT_EQ(rec.fields.size(), 2u);
      ++records;
    }
  }
  EXPECT_EQ(records, 5000u);
}

}  // namespace
}  // namespace tailor::detail
