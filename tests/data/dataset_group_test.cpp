// SPDX-License-Identifier: MIT
// DatasetGroup import: every CSV edge case, both policies, both modes, parallel == serial.
#include "tailor/data/dataset_group.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/schemas.hpp"
#include "common/temp_dir.hpp"
#include "data/import_stage.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

DatasetGroup make_group() {
  return DatasetGroup(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions),
                      Schema::parse(test::kUsersSchema, DatasetKind::Users),
                      Schema::parse(test::kItemsSchema, DatasetKind::Items));
}

ImportOptions skip_invalid() {
  ImportOptions o;
  o.policy = ImportPolicy::SkipInvalid;
  return o;
}

void expect_counts_add_up(const ImportReport& r) {
  EXPECT_EQ(r.rows_read, r.rows_imported + r.rows_rejected + r.rows_discarded) << r.summary();
}

TEST(DataDatasetGroup, ImportsColumnsInAnyOrderWithNullsAndMissingOptionalColumns) {
  DatasetGroup g = make_group();
  ImportReport r = g.import_csv_text(DatasetKind::Interactions,
                                     "TIMESTAMP,ITEM_ID,USER_ID,EVENT_TYPE,EVENT_VALUE\n"
                                     "100,i1,u1,click,2.5\n"
                                     "200,i2,u1,like,\n"
                                     "300,i1,u2,click,1\n");
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.rows_read, 3u);
  EXPECT_EQ(r.rows_imported, 3u);
  const Interactions& in = g.interactions();
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(g.user_ids().name(in.users()[2]), "u2");
  EXPECT_EQ(g.item_ids().name(in.items()[1]), "i2");
  EXPECT_EQ(in.timestamps()[1], 200);
  EXPECT_FLOAT_EQ(in.event_values()[0], 2.5f);
  EXPECT_FALSE(in.has_event_value(1));
  EXPECT_EQ(in.event_type_names().name(in.event_types()[1]), "like");
  EXPECT_TRUE(in.column("DEVICE")->is_null(0));  // column absent from the file
  EXPECT_EQ(g.rows(DatasetKind::Interactions), 3u);
}

TEST(DataDatasetGroup, HandlesRfc4180QuotingCrlfAndBom) {
  DatasetGroup g = make_group();
  std::string csv =
      "\xEF\xBB\xBFITEM_ID,TAGS,PRICE,PREMIUM,TITLE,CREATION_TIMESTAMP\r\n"
      "i1,a|b,1.5,true,\"Hello, \"\"world\"\"\",10\r\n"
      "\"i2\",,,false,\"two\nlines\",\r\n"
      "\r\n"
      "i3,c,,,plain,\r\n";
  ImportReport r = g.import_csv_text(DatasetKind::Items, csv);
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.rows_read, 3u);
  const EntityTable& items = *g.items();
  EXPECT_EQ(items.count(), 3u);
  auto row = [&](const char* id) { return items.row_of(g.item_ids().find(id)); };
  const Column& title = *items.column("TITLE");
  EXPECT_EQ(title.text_at(row("i1")), "Hello, \"world\"");
  EXPECT_EQ(title.text_at(row("i2")), "two\nlines");
  const Column& tags = *items.column("TAGS");
  ASSERT_EQ(tags.codes_at(row("i1")).size(), 2u);
  EXPECT_EQ(tags.dictionary().name(tags.codes_at(row("i1"))[1]), "b");
  EXPECT_TRUE(tags.is_null(row("i2")));
  EXPECT_TRUE(items.column("PREMIUM")->bool_at(row("i1")));
  EXPECT_DOUBLE_EQ(items.column("PRICE")->number_at(row("i1")), 1.5);
  EXPECT_TRUE(items.column("PRICE")->is_null(row("i2")));
  EXPECT_EQ(items.column("CREATION_TIMESTAMP")->int_at(row("i1")), 10);
}

struct BadRow {
  const char* name;
  std::string row;
  const char* column;
  const char* reason_part;
  friend void PrintTo(const BadRow& b, std::ostream* os) { *os << b.name; }
};

class DataDatasetGroupBadRow : public ::testing::TestWithParam<BadRow> {};

TEST_P(DataDatasetGroupBadRow, IsReportedWithLineColumnAndReasonAndChangesNothing) {
  const BadRow& c = GetParam();
  DatasetGroup g = make_group();
  ASSERT_TRUE(
      g.import_csv_text(DatasetKind::Interactions,
                        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nu0,i0,1,click,1\n")
          .ok());
  const std::string csv =
      "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n"
      "u1,i1,5,click,1\n" +
      c.row + "\nu2,i2,6,click,1\n";
  ImportOptions incremental;
  incremental.mode = ImportMode::Incremental;
  ImportReport r = g.import_csv_text(DatasetKind::Interactions, csv, incremental);
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.rows_rejected, 1u) << r.summary();
  EXPECT_EQ(r.rows_discarded, 2u);
  expect_counts_add_up(r);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[0].column, c.column);
  EXPECT_NE(r.errors[0].reason.find(c.reason_part), std::string::npos) << r.errors[0].reason;
  // All-or-nothing: the group is exactly as before.
  EXPECT_EQ(g.interactions().size(), 1u);
  EXPECT_EQ(g.user_ids().size(), 1u);
  EXPECT_EQ(g.item_ids().size(), 1u);

  ImportOptions skip = skip_invalid();
  skip.mode = ImportMode::Incremental;
  ImportReport s = g.import_csv_text(DatasetKind::Interactions, csv, skip);
  EXPECT_TRUE(s.applied);
  EXPECT_EQ(s.rows_imported, 2u);
  EXPECT_EQ(s.rows_rejected, 1u);
  expect_counts_add_up(s);
  EXPECT_EQ(g.interactions().size(), 3u);
  EXPECT_EQ(g.user_ids().size(), 3u);  // the bad row's user was never interned
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DataDatasetGroupBadRow,
    ::testing::Values(
        BadRow{"TooFewFields", "ux,ix,7,click", "", "expected 5 fields"},
        BadRow{"TooManyFields", "ux,ix,7,click,1,extra", "", "found 6"},
        BadRow{"UnparsableLong", "ux,ix,yesterday,click,1", "TIMESTAMP", "not a valid long"},
        BadRow{"LongOutOfRange", "ux,ix,99999999999999999999,click,1", "TIMESTAMP", "out of range"},
        BadRow{"UnparsableFloat", "ux,ix,7,click,lots", "EVENT_VALUE", "not a valid finite float"},
        BadRow{"NotFinite", "ux,ix,7,click,inf", "EVENT_VALUE", "finite"},
        BadRow{"EmptyRequired", ",ix,7,click,1", "USER_ID", "empty value for a required"},
        BadRow{"IdTooLong", std::string(300, 'u') + ",ix,7,click,1", "USER_ID",
               "exceeds the limit of 256"},
        BadRow{"InvalidUtf8", "u\xC3\x28,ix,7,click,1", "USER_ID", "invalid UTF-8"},
        BadRow{"QuoteInsideUnquoted", "u\"x,ix,7,click,1", "", "quote inside an unquoted field"},
        BadRow{"GarbageAfterQuote", "\"ux\"y,ix,7,click,1", "", "after a closing quote"}),
    [](const ::testing::TestParamInfo<BadRow>& p) { return std::string(p.param.name); });

TEST(DataDatasetGroup, FileLevelErrorsChangeNothing) {
  DatasetGroup g = make_group();
  struct Case {
    std::string csv;
    const char* reason;
  } cases[] = {
      {"", "empty file"},
      {"USER_ID,ITEM_ID,TIMESTAMP,COLOUR\nu,i,1,red\n", "unknown column \"COLOUR\""},
      {"USER_ID,ITEM_ID,USER_ID,TIMESTAMP\n", "appears twice"},
      {"USER_ID,ITEM_ID,EVENT_VALUE\nu,i,1\n",
       "missing the following columns: [TIMESTAMP, EVENT_TYPE]"},
      {"USER_ID,\"ITEM_ID\nTIMESTAMP\n", "malformed header"},
  };
  for (const Case& c : cases) {
    ImportReport r = g.import_csv_text(DatasetKind::Interactions, c.csv, skip_invalid());
    EXPECT_FALSE(r.applied);
    ASSERT_EQ(r.errors.size(), 1u) << c.csv;
    EXPECT_EQ(r.errors[0].line, 1u);
    EXPECT_NE(r.errors[0].reason.find(c.reason), std::string::npos) << r.errors[0].reason;
  }
  EXPECT_EQ(g.interactions().size(), 0u);
}

TEST(DataDatasetGroup, MetadataValueRulesAndLimits) {
  DatasetGroup g = make_group();
  std::string long_tags(1001, 't');
  std::string long_title(25000, 'x');
  ImportReport r = g.import_csv_text(DatasetKind::Items,
                                     "ITEM_ID,TAGS,PRICE,PREMIUM,TITLE\n"
                                     "i1," +
                                         long_tags +
                                         ",1,true,a\n"
                                         "i2,a,1,True,a\n"
                                         "i3,a,1,false," +
                                         long_title + "\n",
                                     skip_invalid());
  EXPECT_EQ(r.rows_imported, 1u) << r.summary();
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].column, "TAGS");
  EXPECT_NE(r.errors[0].reason.find("1001 characters exceeds the limit of 1000"),
            std::string::npos);
  EXPECT_EQ(r.errors[1].column, "PREMIUM");
  // Textual values are truncated, not rejected.
  const EntityTable& items = *g.items();
  EXPECT_EQ(items.column("TITLE")->text_at(items.row_of(g.item_ids().find("i3"))).size(), 20000u);

  DatasetGroup users_group = make_group();
  ImportReport u = users_group.import_csv_text(
      DatasetKind::Users, "USER_ID,AGE,DEPARTMENT\nu1,3000000000,x\nu2,,\n", skip_invalid());
  // Both rows are bad: the FULL import is refused as a whole (first error), then the rows.
  EXPECT_FALSE(u.applied);
  ASSERT_EQ(u.errors.size(), 3u);
  EXPECT_NE(u.errors[0].reason.find("no row was accepted"), std::string::npos);
  EXPECT_NE(u.errors[1].reason.find("out of range for an int"), std::string::npos);
  EXPECT_EQ(u.errors[2].column, "DEPARTMENT");  // not nullable
}

TEST(DataDatasetGroup, FullImportWithNoGoodRowLeavesTheDatasetAsItWas) {
  DatasetGroup g = make_group();
  const std::string head = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions, head + "u1,i1,1,a\nu2,i2,2,a\n").ok());
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Items, "ITEM_ID,PRICE\ni1,1\n").ok());

  // Every row bad under skip-invalid: nothing accepted, so nothing replaced.
  ImportReport r = g.import_csv_text(DatasetKind::Interactions, head + "u3,i3,never,a\nu4,i4,,a\n",
                                     skip_invalid());
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.rows_read, 2u);
  EXPECT_EQ(r.rows_rejected, 2u);
  EXPECT_EQ(r.rows_imported, 0u);
  expect_counts_add_up(r);
  EXPECT_EQ(r.errors_total, 3u);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 1u);
  EXPECT_EQ(r.errors[0].column, "");
  EXPECT_NE(r.errors[0].reason.find("no row was accepted"), std::string::npos)
      << r.errors[0].reason;
  EXPECT_EQ(r.errors[1].line, 2u);
  EXPECT_EQ(r.errors[2].line, 3u);
  EXPECT_EQ(g.interactions().size(), 2u);
  EXPECT_EQ(g.user_ids().size(), 2u);

  // With the error list already full, the reason still comes first and the counts stay exact.
  std::string many = head;
  for (int k = 0; k < 20; ++k) many += "u,i,bad,a\n";
  ImportOptions capped = skip_invalid();
  capped.max_reported_errors = 5;
  ImportReport c = g.import_csv_text(DatasetKind::Interactions, many, capped);
  EXPECT_FALSE(c.applied);
  EXPECT_EQ(c.errors_total, 21u);
  ASSERT_EQ(c.errors.size(), 5u);
  EXPECT_NE(c.errors[0].reason.find("no row was accepted"), std::string::npos);
  EXPECT_EQ(c.errors[4].line, 5u);
  EXPECT_EQ(g.interactions().size(), 2u);

  // Entity datasets follow the same rule.
  ImportReport items =
      g.import_csv_text(DatasetKind::Items, "ITEM_ID,PRICE\ni9,cheap\n", skip_invalid());
  EXPECT_FALSE(items.applied);
  EXPECT_EQ(g.items()->count(), 1u);

  // INCREMENTAL with no good row is a no-op either way; it was never refused for that.
  ImportOptions inc = skip_invalid();
  inc.mode = ImportMode::Incremental;
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Interactions, head + "u5,i5,never,a\n", inc).applied);
  EXPECT_EQ(g.interactions().size(), 2u);
}

TEST(DataDatasetGroup, HeaderOnlyFullImportEmptiesOnlyWithAllowEmpty) {
  DatasetGroup g = make_group();
  const std::string head = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions, head + "u1,i1,1,a\nu2,i2,2,a\n").ok());
  for (const ImportPolicy policy : {ImportPolicy::AllOrNothing, ImportPolicy::SkipInvalid}) {
    ImportOptions o;
    o.policy = policy;
    ImportReport r = g.import_csv_text(DatasetKind::Interactions, head, o);
    EXPECT_FALSE(r.applied);
    EXPECT_EQ(r.rows_read, 0u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, 1u);
    EXPECT_NE(r.errors[0].reason.find("allow_empty"), std::string::npos) << r.errors[0].reason;
    EXPECT_EQ(g.interactions().size(), 2u);
  }
  // Blank lines are not rows.
  EXPECT_FALSE(g.import_csv_text(DatasetKind::Interactions, head + "\n\r\n").applied);
  EXPECT_EQ(g.interactions().size(), 2u);

  ImportOptions allow;
  allow.allow_empty = true;
  ImportReport emptied = g.import_csv_text(DatasetKind::Interactions, head, allow);
  EXPECT_TRUE(emptied.ok()) << emptied.summary();
  EXPECT_EQ(g.interactions().size(), 0u);

  // allow_empty never lets a file of bad rows through.
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions, head + "u1,i1,1,a\n").ok());
  allow.policy = ImportPolicy::SkipInvalid;
  EXPECT_FALSE(g.import_csv_text(DatasetKind::Interactions, head + "u1,i1,bad,a\n", allow).applied);
  EXPECT_EQ(g.interactions().size(), 1u);

  // Items: a header-only file empties the table only when allowed.
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Items, "ITEM_ID,PRICE\ni1,1\ni2,2\n").ok());
  EXPECT_FALSE(g.import_csv_text(DatasetKind::Items, "ITEM_ID,PRICE\n").applied);
  EXPECT_EQ(g.items()->count(), 2u);
  allow.policy = ImportPolicy::AllOrNothing;
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Items, "ITEM_ID,PRICE\n", allow).applied);
  EXPECT_EQ(g.items()->count(), 0u);
}

TEST(DataDatasetGroup, ErrorCapKeepsCountsExact) {
  DatasetGroup g = make_group();
  std::string csv = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  for (int i = 0; i < 500; ++i) csv += "u,i,bad,click\n";
  csv += "u,i,1,click\n";
  ImportOptions o = skip_invalid();
  o.max_reported_errors = 10;
  ImportReport r = g.import_csv_text(DatasetKind::Interactions, csv, o);
  EXPECT_EQ(r.errors.size(), 10u);
  EXPECT_EQ(r.errors_total, 500u);
  EXPECT_EQ(r.rows_rejected, 500u);
  EXPECT_EQ(r.rows_imported, 1u);
  EXPECT_EQ(r.errors[9].line, 11u);
  expect_counts_add_up(r);
  EXPECT_NE(r.summary().find("490 more errors"), std::string::npos);
}

TEST(DataDatasetGroup, FullReplacesAndIncrementalAppendsOrUpserts) {
  DatasetGroup g = make_group();
  const std::string head = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions, head + "u1,i1,1,a\nu2,i2,2,a\n").ok());
  ImportOptions inc;
  inc.mode = ImportMode::Incremental;
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions, head + "u3,i1,3,a\n", inc).ok());
  EXPECT_EQ(g.interactions().size(), 3u);
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Interactions, head + "u9,i9,9,a\n").ok());
  ASSERT_EQ(g.interactions().size(), 1u);
  EXPECT_EQ(g.user_ids().name(g.interactions().users()[0]), "u9");

  const std::string items = "ITEM_ID,PRICE\n";
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Items, items + "a,1\nb,2\n").ok());
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Items, items + "b,20\nc,30\nc,31\n", inc).ok());
  const EntityTable& t = *g.items();
  EXPECT_EQ(t.count(), 3u);
  auto price = [&](const char* id) {
    return t.column("PRICE")->number_at(t.row_of(g.item_ids().find(id)));
  };
  EXPECT_EQ(price("a"), 1);
  EXPECT_EQ(price("b"), 20);
  EXPECT_EQ(price("c"), 31);  // the last row for an id wins
  ASSERT_TRUE(g.import_csv_text(DatasetKind::Items, items + "z,5\n").ok());
  EXPECT_EQ(t.count(), 1u);
  EXPECT_EQ(t.row_of(g.item_ids().find("a")), EntityTable::kNoRow);
}

TEST(DataDatasetGroup, MissingDatasetAndFile) {
  DatasetGroup g(Schema::parse(test::kInteractionsSchema, DatasetKind::Interactions));
  EXPECT_FALSE(g.has_dataset(DatasetKind::Users));
  EXPECT_EQ(g.users(), nullptr);
  EXPECT_THROW(g.import_csv_text(DatasetKind::Users, "USER_ID,AGE\nu,1\n"), Error);
  try {
    g.import_csv(DatasetKind::Interactions, "/nonexistent/file.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Io);
  }
  EXPECT_THROW(DatasetGroup(Schema::parse(test::kUsersSchema, DatasetKind::Users)), Error);
}

// A few MB of interactions with quoted, multi-line and bad rows mixed in.
std::string messy_csv(std::size_t rows, bool with_errors) {
  std::mt19937 rng(11);
  std::ostringstream out;
  out << "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n";
  for (std::size_t r = 0; r < rows; ++r) {
    unsigned u = rng() % 5000, i = rng() % 3000, kind = rng() % 20;
    if (kind == 0)
      out << "\"user," << u << "\"";
    else if (kind == 1)
      out << "\"u\"\"" << u << "\"";
    else
      out << "u" << u;
    out << ",i" << i << "," << r << "," << (rng() % 2 ? "click" : "read") << ",";
    if (kind != 2) out << (rng() % 10) / 2.0;
    out << ",";
    if (kind == 3)
      out << "\"phone\nand tablet|desktop\"";
    else if (kind == 4)
      out << "phone|tv";
    if (with_errors && kind == 5 && rng() % 4 == 0) out << ",extra";
    out << (r % 7 == 0 ? "\r\n" : "\n");
  }
  return out.str();
}

void expect_same_group(const DatasetGroup& a, const DatasetGroup& b) {
  ASSERT_EQ(a.user_ids().size(), b.user_ids().size());
  for (Index u = 0; u < a.user_ids().size(); ++u)
    ASSERT_EQ(a.user_ids().name(u), b.user_ids().name(u));
  ASSERT_EQ(a.item_ids().size(), b.item_ids().size());
  const Interactions& x = a.interactions();
  const Interactions& y = b.interactions();
  ASSERT_EQ(x.size(), y.size());
  EXPECT_EQ(x.users(), y.users());
  EXPECT_EQ(x.items(), y.items());
  EXPECT_EQ(x.timestamps(), y.timestamps());
  EXPECT_EQ(x.event_types(), y.event_types());
  EXPECT_EQ(x.event_values(), y.event_values());
  for (Index u = 0; u < a.user_ids().size(); ++u) {
    const Span<std::uint32_t> ra = a.interaction_rows_of(u), rb = b.interaction_rows_of(u);
    ASSERT_EQ(std::vector<std::uint32_t>(ra.begin(), ra.end()),
              std::vector<std::uint32_t>(rb.begin(), rb.end()));
  }
  const Column& dx = *x.column("DEVICE");
  const Column& dy = *y.column("DEVICE");
  for (std::size_t r = 0; r < x.size(); ++r) {
    ASSERT_EQ(dx.codes_at(r).size(), dy.codes_at(r).size());
    for (std::size_t k = 0; k < dx.codes_at(r).size(); ++k) {
      ASSERT_EQ(dx.dictionary().name(dx.codes_at(r)[k]), dy.dictionary().name(dy.codes_at(r)[k]));
    }
  }
}

TEST(DataDatasetGroup, ParallelImportEqualsSerial) {
  for (bool with_errors : {false, true}) {
    const std::string csv = messy_csv(60000, with_errors);
    ImportOptions serial = skip_invalid();
    serial.execution.num_threads = 1;
    ImportOptions parallel = skip_invalid();
    parallel.execution.num_threads = 4;
    parallel.min_parallel_bytes = 0;
    DatasetGroup a = make_group();
    DatasetGroup b = make_group();
    ImportReport ra = a.import_csv_text(DatasetKind::Interactions, csv, serial);
    ImportReport rb = b.import_csv_text(DatasetKind::Interactions, csv, parallel);
    EXPECT_EQ(ra.rows_read, 60000u);
    EXPECT_EQ(ra.rows_read, rb.rows_read);
    EXPECT_EQ(ra.rows_imported, rb.rows_imported);
    EXPECT_EQ(ra.errors_total, rb.errors_total);
    EXPECT_EQ(with_errors, ra.errors_total > 0);
    ASSERT_EQ(ra.errors.size(), rb.errors.size());
    for (std::size_t e = 0; e < ra.errors.size(); ++e) {
      EXPECT_EQ(ra.errors[e].line, rb.errors[e].line);
      EXPECT_EQ(ra.errors[e].reason, rb.errors[e].reason);
    }
    expect_same_group(a, b);
  }
}

// Each user's rows, in dataset order, computed the slow way.
void expect_user_rows_match_the_rows(const DatasetGroup& g) {
  std::vector<std::vector<std::uint32_t>> expected(g.user_ids().size());
  const std::vector<Index>& users = g.interactions().users();
  for (std::size_t r = 0; r < users.size(); ++r)
    expected[users[r]].push_back(static_cast<std::uint32_t>(r));
  for (Index u = 0; u < g.user_ids().size(); ++u) {
    const Span<std::uint32_t> rows = g.interaction_rows_of(u);
    ASSERT_EQ(std::vector<std::uint32_t>(rows.begin(), rows.end()), expected[u]) << "user " << u;
  }
}

TEST(DataDatasetGroup, EachUsersRowsFollowFullAndIncrementalParallelImports) {
  for (int threads : {1, 2, 3}) {
    ImportOptions full;
    full.execution.num_threads = threads;
    full.min_parallel_bytes = 0;
    full.policy = ImportPolicy::SkipInvalid;
    ImportOptions incremental = full;
    incremental.mode = ImportMode::Incremental;
    DatasetGroup g = make_group();
    ASSERT_TRUE(
        g.import_csv_text(DatasetKind::Interactions, messy_csv(30000, false), full).applied);
    expect_user_rows_match_the_rows(g);
    const std::size_t before = g.interactions().size();
    ASSERT_TRUE(
        g.import_csv_text(
             DatasetKind::Interactions,
             "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nnew-user,i1,5,a\nu1,i2,6,a\nu1,i3,7,a\n",
             incremental)
            .applied);
    EXPECT_EQ(g.interactions().size(), before + 3);
    expect_user_rows_match_the_rows(g);
    ASSERT_TRUE(
        g.import_csv_text(DatasetKind::Interactions, messy_csv(5000, false), incremental).applied);
    expect_user_rows_match_the_rows(g);
    // A FULL import replaces the rows: users of the old rows only have none left.
    ASSERT_TRUE(
        g.import_csv_text(DatasetKind::Interactions,
                          "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu1,i1,5,a\nu2,i1,6,a\nu1,i2,7,a\n",
                          full)
            .applied);
    EXPECT_EQ(g.interactions().size(), 3u);
    expect_user_rows_match_the_rows(g);
    EXPECT_EQ(g.interaction_rows_of(g.user_ids().find("new-user")).size(), 0u);
  }
}

TEST(DataDatasetGroup, AnImportIntoAnEmptyDatasetEqualsOneAppendedToRows) {
  // Into an empty dataset, the first chunk's columns are taken over; onto rows, all are copied.
  const std::string header = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n";
  const std::string first = header + "u1,i1,1,buy,,tv\nu2,i2,2,read,0.5,\n";
  std::string rest = messy_csv(40000, false);
  for (int threads : {1, 2, 3}) {
    ImportOptions full = skip_invalid();
    full.execution.num_threads = threads;
    full.min_parallel_bytes = 0;
    ImportOptions incremental = full;
    incremental.mode = ImportMode::Incremental;
    DatasetGroup whole = make_group();
    ASSERT_TRUE(
        whole.import_csv_text(DatasetKind::Interactions, first + rest.substr(header.size()), full)
            .applied);
    DatasetGroup appended = make_group();
    const ImportReport head = appended.import_csv_text(DatasetKind::Interactions, first, full);
    ASSERT_TRUE(head.applied) << head.summary();
    ASSERT_TRUE(appended.import_csv_text(DatasetKind::Interactions, rest, incremental).applied);
    expect_same_group(whole, appended);
    EXPECT_GT(whole.interactions().size(), 30000u);
    EXPECT_FALSE(whole.interactions().has_event_value(0));
  }
}

TEST(DataDatasetGroup, AFileOnDiskImportsAsItsText) {
  test::TempDir dir("tailor-csv-file", true);
  const std::string header = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n";
  std::string page = header;  // exactly 2 MiB (a huge page), ending in a newline
  for (int r = 0; page.size() < (std::size_t{2} << 20) - 64; ++r)
    page += "u" + std::to_string(r % 77) + ",i" + std::to_string(r % 31) + ",5,click,1\n";
  page += "u,i,5,click," + std::string((std::size_t{2} << 20) - page.size() - 13, '1') + "\n";
  ASSERT_EQ(page.size(), std::size_t{2} << 20);
  const std::vector<std::string> texts = {
      "",                                                // empty: refused with line 1
      "USER_ID,ITEM_ID,TIMESTAMP",                       // a header without a newline and no rows
      header + "u1,i1,100,click,2.5",                    // no newline after the last row
      header + "u1,i1,100,click,2.5\nu2,i2,x,click,\n",  // a bad row, reported by line
      page,
      messy_csv(60000, true)};
  ImportOptions parallel = skip_invalid();
  parallel.min_parallel_bytes = 0;
  parallel.execution.num_threads = 2;
  for (const ImportOptions& options : {ImportOptions(), parallel}) {
    for (std::size_t t = 0; t < texts.size(); ++t) {
      const std::string path = dir.path + "/" + std::to_string(t) + ".csv";
      std::ofstream(path, std::ios::binary) << texts[t];
      DatasetGroup a = make_group();
      DatasetGroup b = make_group();
      const ImportReport from_file = a.import_csv(DatasetKind::Interactions, path, options);
      const ImportReport from_text =
          b.import_csv_text(DatasetKind::Interactions, texts[t], options);
      EXPECT_EQ(from_file.summary(), from_text.summary()) << "file " << t;
      const bool skip = options.policy == ImportPolicy::SkipInvalid;
      EXPECT_EQ(from_file.applied, t == 2 || t == 4 || (t > 2 && skip))
          << "file " << t << ": " << from_file.summary();
      expect_same_group(a, b);
    }
  }
  DatasetGroup g = make_group();
  try {
    g.import_csv(DatasetKind::Interactions, dir.path);  // a directory
    FAIL() << "a directory was read as a CSV file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Io) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.path), std::string::npos) << e.what();
  }
}

TEST(DataDatasetGroup, AFileReadInPartsByEveryThreadImportsAsItsText) {
  // A file of several huge pages is read in one part per thread (whole huge pages each), side by
  // side: whatever the number of threads, the group is the one its text makes. (Threads are capped
  // at the cores: a 2-core machine reads it in 1 or 2 parts.)
  test::TempDir dir("tailor-csv-parts", true);
  const std::string path = dir.path + "/events.csv";
  const std::string text = messy_csv(300000, true);
  ASSERT_GT(text.size(), std::size_t{8} << 20);
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  ImportOptions serial = skip_invalid();
  serial.execution.num_threads = 1;
  DatasetGroup expected = make_group();
  const ImportReport want = expected.import_csv_text(DatasetKind::Interactions, text, serial);
  for (int threads : {1, 2, 3, 5}) {
    ImportOptions options = skip_invalid();
    options.execution.num_threads = threads;
    DatasetGroup from_file = make_group();
    const ImportReport got = from_file.import_csv(DatasetKind::Interactions, path, options);
    EXPECT_EQ(got.rows_read, want.rows_read) << threads << " threads";
    EXPECT_EQ(got.rows_imported, want.rows_imported) << threads << " threads";
    EXPECT_EQ(got.errors_total, want.errors_total) << threads << " threads";
    expect_same_group(expected, from_file);
  }
}

TEST(DataDatasetGroup, AFileReadInSmallBlocksImportsAsItsText) {
  // An import holds a block of the file per thread (ImportOptions::read_block_bytes), not the
  // file: records cut by a block's end (inside quoted fields and line ends too, or longer than a
  // block) are read whole from the next, line numbers and errors as in the text. Also: a byte
  // order mark and blank lines before a header that spans lines, broken quoting (the job is then
  // parsed again on one thread), and no line end after the last row.
  test::TempDir dir("tailor-csv-blocks", true);
  std::string broken = messy_csv(3000, true);
  broken.insert(broken.size() / 2, "\"");
  std::string long_value = messy_csv(200, false);
  long_value.insert(long_value.find('\n', long_value.size() / 2) + 1,
                    "u1,i1,7,click,1,\"" + std::string(10000, 'x') + "\n|tv\"\n");
  const std::vector<std::string> texts = {
      messy_csv(3000, true), "\xEF\xBB\xBF\n\r\n\"USER_ID\",\"ITEM_\nID\",TIMESTAMP\nu1,i1,5\n",
      broken, long_value, "USER_ID,ITEM_ID,TIMESTAMP\r\nu1,i1,5\r\n\"u\n2\",i2,6\r\nu3,\"i,3\",7"};
  ImportOptions serial = skip_invalid();
  serial.execution.num_threads = 1;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    const std::string path = dir.path + "/" + std::to_string(t) + ".csv";
    std::ofstream(path, std::ios::binary) << texts[t];
    DatasetGroup expected = make_group();
    const ImportReport want = expected.import_csv_text(DatasetKind::Interactions, texts[t], serial);
    for (std::size_t block : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                              std::size_t{64}, std::size_t{4093}}) {
      for (int threads : {1, 2}) {
        ImportOptions options = serial;
        options.read_block_bytes = block;
        options.execution.num_threads = threads;
        options.min_parallel_bytes = 0;
        DatasetGroup g = make_group();
        const ImportReport got = g.import_csv(DatasetKind::Interactions, path, options);
        const std::string where = "text " + std::to_string(t) + ", blocks of " +
                                  std::to_string(block) + ", " + std::to_string(threads) +
                                  " threads";
        EXPECT_EQ(got.summary(), want.summary()) << where;
        ASSERT_EQ(got.errors.size(), want.errors.size()) << where;
        for (std::size_t e = 0; e < got.errors.size(); ++e) {
          EXPECT_EQ(got.errors[e].line, want.errors[e].line) << where;
          EXPECT_EQ(got.errors[e].column, want.errors[e].column) << where;
          EXPECT_EQ(got.errors[e].reason, want.errors[e].reason) << where;
        }
        expect_same_group(expected, g);
      }
    }
  }
}

TEST(DataDatasetGroup, AFileSplitsWhereItsTextDoesWhenQuotedFieldsHoldLineEnds) {
  // Most bytes lie in quoted fields that hold line ends (say, item descriptions): the parts of a
  // file start where the text's parts do (outside quotes), so a well-formed file is not found
  // malformed and parsed again on one thread.
  test::TempDir dir("tailor-csv-split", true);
  const std::string path = dir.path + "/events.csv";
  const std::string header = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n";
  std::string text = header;
  for (int r = 0; r < 4000; ++r) {
    text += "u" + std::to_string(r) + ",i1,5,click,1,\"a\nb\"\"\nc" + std::string(r % 97, '\n') +
            "\"\r\n";
  }
  std::ofstream(path, std::ios::binary) << text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (std::size_t block : {std::size_t{5}, std::size_t{4} << 20}) {
    const std::unique_ptr<detail::CsvSource> file =
        detail::file_csv_source(fd, text.size(), path, block);
    for (std::size_t parts = 2; parts <= 9; ++parts) {
      const std::vector<detail::CsvChunk> got = file->split(header.size(), parts, 2);
      const std::vector<detail::CsvChunk> want =
          detail::split_csv(text.data(), text.size(), header.size(), parts, 2);
      ASSERT_EQ(got.size(), want.size()) << parts << " parts";
      ASSERT_GT(got.size(), 1u);
      for (std::size_t c = 0; c < got.size(); ++c) {
        EXPECT_EQ(got[c].begin, want[c].begin) << parts << " parts, chunk " << c;
        EXPECT_EQ(got[c].end, want[c].end) << parts << " parts, chunk " << c;
      }
    }
  }
  ::close(fd);
}

TEST(DataDatasetGroup, AFileCutShortWhileItIsReadIsRefusedOrReadAsOneOfItsVersions) {
  // Another process truncates the CSV while its parts are read side by side. Whatever the moment,
  // the import is the whole text (read before the cut), the cut text (cut before the read began),
  // or an I/O error naming the file that became shorter, with the group left as it was: never a
  // mix of the two.
  test::TempDir dir("tailor-csv-cut", true);
  const std::string path = dir.path + "/events.csv";
  const std::string text = messy_csv(1000000, false);
  constexpr std::size_t kCut = std::size_t{1} << 20;
  ImportOptions options = skip_invalid();
  options.execution.num_threads = 2;
  DatasetGroup whole = make_group(), cut = make_group();
  ASSERT_TRUE(whole.import_csv_text(DatasetKind::Interactions, text, options).ok());
  // The cut ends inside a line: that one row is rejected, the rows before it are imported.
  ASSERT_GT(
      cut.import_csv_text(DatasetKind::Interactions, text.substr(0, kCut), options).rows_imported,
      0u);
  std::mt19937 rng(3);
  for (int round = 0; round < 6; ++round) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << text;
    }
    const auto delay = std::chrono::microseconds(rng() % 1500);
    std::thread cutter([&] {
      std::this_thread::sleep_for(delay);
      ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kCut)), 0);
    });
    DatasetGroup g = make_group();
    try {
      g.import_csv(DatasetKind::Interactions, path, options);
      if (g.interactions().size() == whole.interactions().size()) {
        expect_same_group(whole, g);
      } else {
        expect_same_group(cut, g);
      }
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::Io) << e.what();
      EXPECT_NE(std::string(e.what()).find("became shorter"), std::string::npos) << e.what();
      EXPECT_EQ(g.interactions().size(), 0u) << "a refused import changes nothing";
    }
    cutter.join();
  }
}

TEST(DataDatasetGroup, AFifoImportsAsTheTextWrittenIntoIt) {
  // A pipe has no size (`--csv /dev/stdin` under `cat file |`, or a named pipe): it is read to its
  // end, not taken for an empty file. The text is larger than a pipe's buffer.
  test::TempDir dir("tailor-csv-fifo", true);
  const std::string path = dir.path + "/events.csv";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  const std::string text = messy_csv(20000, false);
  ASSERT_GT(text.size(), std::size_t{256} << 10);
  std::thread writer([&] {
    // A reader that stops early makes write() fail with EPIPE here rather than kill the test.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return;
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  DatasetGroup from_fifo = make_group();
  ImportReport r;
  try {
    r = from_fifo.import_csv(DatasetKind::Interactions, path, skip_invalid());
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  writer.join();
  DatasetGroup from_text = make_group();
  const ImportReport expected =
      from_text.import_csv_text(DatasetKind::Interactions, text, skip_invalid());
  ASSERT_TRUE(expected.applied);
  EXPECT_EQ(r.summary(), expected.summary());
  expect_same_group(from_fifo, from_text);
}

// Text that ends right before a page the process may not read: a read past its end (a file is
// read into a buffer with no terminator or slack after it) faults instead of going unnoticed.
class GuardedText {
 public:
  explicit GuardedText(const std::string& text) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    size_ = (text.size() + page - 1) / page * page + page;
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    if (::mprotect(base_ + size_ - page, page, PROT_NONE) != 0) {
      ::munmap(base_, size_);
      throw std::runtime_error("mprotect failed");
    }
    char* start = base_ + size_ - page - text.size();
    std::memcpy(start, text.data(), text.size());
    view_ = std::string_view(start, text.size());
  }
  ~GuardedText() { ::munmap(base_, size_); }
  GuardedText(const GuardedText&) = delete;
  GuardedText& operator=(const GuardedText&) = delete;
  std::string_view view() const { return view_; }

 private:
  char* base_ = nullptr;
  std::size_t size_ = 0;
  std::string_view view_;
};

TEST(DataDatasetGroup, TextEndingAtAPageEdgeIsReadNoFurtherThanItsEnd) {
  const std::string header = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n";
  const std::string long_id(70, 'u');
  const std::vector<std::string> endings = {
      "u1,i1,100,click,2.5,tv",            // a number then a field, no newline
      "u1,i1,100,click,,",                 // an empty last field
      "u1,i1,100,click,2.5",               // too few fields, ending in a number
      "u1,i1,100",                         // ending in an integer
      "u1,i1,100,click,2.5,\"tv|phone\"",  // a quoted last field
      "u1,i1,100,click,2.5,\"tv",          // an unterminated quote
      "u1,i1,100,click,2.5,tv\r",          // a carriage return at the very end
      "u1,i1,100,click,2.5,tv\r\n",
      long_id + ",i1,100,click,2.5,tv",  // a line longer than the 64-byte window
      long_id + ",i1,100,click,2.5,tv\n",
      ""};
  ImportOptions parallel = skip_invalid();
  parallel.min_parallel_bytes = 0;
  parallel.execution.num_threads = 2;
  const std::string rows = messy_csv(300, true).substr(header.size());
  for (const std::string& ending : endings) {
    for (const std::string& text : {header + ending, header + rows + ending, ending}) {
      for (const ImportOptions& options : {skip_invalid(), parallel}) {
        const GuardedText guarded(text);
        DatasetGroup a = make_group();
        DatasetGroup b = make_group();
        const ImportReport at_edge =
            a.import_csv_text(DatasetKind::Interactions, guarded.view(), options);
        const ImportReport in_string = b.import_csv_text(DatasetKind::Interactions, text, options);
        EXPECT_EQ(at_edge.summary(), in_string.summary()) << ending;
        expect_same_group(a, b);
      }
    }
  }
}

TEST(DataDatasetGroup, ParallelImportWithBrokenQuotingEqualsSerial) {
  std::string csv = messy_csv(20000, false);
  csv.insert(csv.size() / 2, "\"");  // an unbalanced quote in the middle of the file
  ImportOptions serial = skip_invalid();
  serial.execution.num_threads = 1;
  ImportOptions parallel = skip_invalid();
  parallel.execution.num_threads = 3;
  parallel.min_parallel_bytes = 0;
  DatasetGroup a = make_group();
  DatasetGroup b = make_group();
  ImportReport ra = a.import_csv_text(DatasetKind::Interactions, csv, serial);
  ImportReport rb = b.import_csv_text(DatasetKind::Interactions, csv, parallel);
  EXPECT_GT(ra.errors_total, 0u);
  EXPECT_EQ(ra.rows_read, rb.rows_read);
  EXPECT_EQ(ra.errors_total, rb.errors_total);
  expect_same_group(a, b);
}

// Writes interactions back out as CSV, quoting where RFC 4180 requires.
std::string to_csv(const DatasetGroup& g) {
  auto quote = [](std::string_view s) {
    if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  const Interactions& in = g.interactions();
  std::ostringstream out;
  out << "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n";
  for (std::size_t r = 0; r < in.size(); ++r) {
    out << quote(g.user_ids().name(in.users()[r])) << "," << quote(g.item_ids().name(in.items()[r]))
        << "," << in.timestamps()[r] << "," << in.event_type_names().name(in.event_types()[r])
        << ",";
    if (in.has_event_value(r)) out << in.event_values()[r];
    out << "\n";
  }
  return out.str();
}

TEST(DataDatasetGroup, SampleDataRoundTrips) {
  const std::string dir = std::string(TAILOR_SOURCE_DIR) + "/data/";
  DatasetGroup g(Schema::load(dir + "interactions_schema.json", DatasetKind::Interactions),
                 Schema::load(dir + "users_schema.json", DatasetKind::Users),
                 Schema::load(dir + "items_schema.json", DatasetKind::Items));
  ImportReport ri = g.import_csv(DatasetKind::Interactions, dir + "interactions.csv");
  ASSERT_TRUE(ri.ok()) << ri.summary();
  ASSERT_TRUE(g.import_csv(DatasetKind::Users, dir + "users.csv").ok());
  ASSERT_TRUE(g.import_csv(DatasetKind::Items, dir + "items.csv").ok());
  EXPECT_GT(g.interactions().size(), 10000u);
  EXPECT_GT(g.users()->count(), 100u);
  EXPECT_GT(g.items()->count(), 100u);
  // Every interaction's user and item has metadata: the generator writes all three files.
  for (std::size_t r = 0; r < g.interactions().size(); ++r) {
    ASSERT_NE(g.users()->row_of(g.interactions().users()[r]), EntityTable::kNoRow);
    ASSERT_NE(g.items()->row_of(g.interactions().items()[r]), EntityTable::kNoRow);
  }
  DatasetGroup again(Schema::load(dir + "interactions_schema.json", DatasetKind::Interactions));
  ASSERT_TRUE(again.import_csv_text(DatasetKind::Interactions, to_csv(g)).ok());
  ASSERT_EQ(again.interactions().size(), g.interactions().size());
  for (std::size_t r = 0; r < g.interactions().size(); ++r) {
    ASSERT_EQ(again.user_ids().name(again.interactions().users()[r]),
              g.user_ids().name(g.interactions().users()[r]));
    ASSERT_EQ(again.interactions().timestamps()[r], g.interactions().timestamps()[r]);
    ASSERT_EQ(again.interactions().event_values()[r], g.interactions().event_values()[r]);
  }
  EXPECT_GT(g.memory_bytes(), 0u);
}

}  // namespace
}  // namespace tailor
