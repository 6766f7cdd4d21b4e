// SPDX-License-Identifier: MIT
// Strict input end to end, as far as tests/integration/cli_test.cpp does not go already
// (PutCommandsReportFileLinesAndStoreOnlyGoodRecords checks the reasons of each bad line): a file
// of bad events writes not one byte to the log, and a retried eventId is stored once, across calls,
// within a call, across a checkpoint and across reopening.
#include <gtest/gtest.h>

#include "reliability/support.hpp"

namespace tailor::reliability {
namespace {

TEST(ReliabilityInput, RejectedEventsNameTheirLineAndWriteNothingToTheLog) {
  TempDir dir("rejected");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  const std::string good = R"("sessionId":"s","itemId":"i1","eventType":"read")";
  write_bytes(dir / "bad.jsonl",
              "{\"userId\":\"no-time\"," + good + "}\n\n" + "{\"userId\":\"far\"," + good +
                  ",\"sentAt\":1e19}\n" + "{\"userId\":\"abc\"," + good +
                  ",\"sentAt\":1,\"eventValue\":\"abc\"}\n" + "{\"userId\":\"str\"," + good +
                  ",\"sentAt\":\"1700000000\"}\n");
  const auto before = directory_bytes(group);
  const Result r = cli(dir.path, {"put-events", group, "--input", dir / "bad.jsonl", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const detail::Json report = json(r.out);
  EXPECT_EQ(report.find("accepted")->as_int(), 0);
  EXPECT_EQ(report.find("rejected")->as_int(), 4);
  const auto& errors = report.find("errors")->items();
  ASSERT_EQ(errors.size(), 4u) << r.out;
  const std::vector<std::pair<int, const char*>> expected = {
      {1, "sentAt"}, {3, "sentAt"}, {4, "eventValue"}, {5, "sentAt"}};
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(errors[k].find("line")->as_int(), expected[k].first) << r.out;
    EXPECT_EQ(errors[k].find("field")->as_string(), expected[k].second) << r.out;
  }
  EXPECT_EQ(directory_bytes(group), before) << "rejected events reached a file";
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 0) << why;
}

TEST(ReliabilityInput, ARetriedEventIdIsStoredOnceAcrossCallsCheckpointsAndReopening) {
  TempDir dir("retry");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  // Within one call: the second line retries the first.
  write_bytes(dir / "a.jsonl", event_line("u1", "i1", "evt-1", 1700000000) +
                                   event_line("u1", "i1", "evt-1", 1700000000) +
                                   event_line("u1", "i2", "evt-2", 1700000001));
  write_bytes(dir / "b.jsonl", event_line("u1", "i1", "evt-1", 1700000000) +
                                   event_line("u2", "i3", "evt-3", 1700000002));
  auto put = [&](const std::string& file) {
    const Result r = cli(dir.path, {"put-events", group, "--input", dir / file, "--json"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json(r.out).find("rejected")->as_int(), 0) << r.out;
    return json(r.out).find("accepted")->as_int();
  };
  auto rows = [&] {
    std::string why;
    const long n = interaction_rows(cli(dir.path, {"info", group, "--json"}), &why);
    EXPECT_GE(n, 0) << why;
    return n;
  };
  EXPECT_EQ(put("a.jsonl"), 3);  // every retry is acknowledged
  EXPECT_EQ(rows(), 2);
  const std::size_t log_size = fs::file_size(group + "/updates.log");
  EXPECT_EQ(put("a.jsonl"), 3);  // from the log, replayed by this process
  EXPECT_EQ(rows(), 2);
  EXPECT_EQ(fs::file_size(group + "/updates.log"), log_size)
      << "a call of retries only wrote to the log";
  EXPECT_EQ(put("b.jsonl"), 2);
  EXPECT_EQ(rows(), 3);
  // A checkpoint (an import does one) moves the events into the snapshot: retries still count.
  ASSERT_EQ(
      cli(dir.path, {"import", group, "--dataset", "items", "--csv", data_dir() + "items.csv"})
          .status,
      0);
  EXPECT_EQ(put("a.jsonl"), 3);
  EXPECT_EQ(put("b.jsonl"), 2);
  EXPECT_EQ(rows(), 3);
}

TEST(ReliabilityInput, ACorrectedRetryOfARejectedEventInTheSameFileIsStored) {
  TempDir dir("corrected");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  // Each bad line is sent again, corrected, later in the same file: line 1 lacks a sessionId,
  // line 2 has an event type longer than the schema allows, line 3 an item id too long; then
  // the corrected three, and a plain retry of the first corrected one.
  const std::string long_text(300, 'x');
  write_bytes(
      dir / "events.jsonl",
      R"({"userId":"u1","itemId":"i1","eventType":"read","sentAt":1700000000,"eventId":"evt-1"})"
      "\n"
      R"({"userId":"u1","sessionId":"s","itemId":"i2","eventType":")" +
          long_text + R"(","sentAt":1700000000,"eventId":"evt-2"})" + "\n" +
          event_line("u1", long_text, "evt-3", 1700000000) +
          event_line("u1", "i1", "evt-1", 1700000000) +
          event_line("u1", "i2", "evt-2", 1700000000) +
          event_line("u1", "i3", "evt-3", 1700000000) +
          event_line("u1", "i1", "evt-1", 1700000000));
  const Result r = cli(dir.path, {"put-events", group, "--input", dir / "events.jsonl", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json(r.out).find("accepted")->as_int(), 4) << r.out;
  EXPECT_EQ(json(r.out).find("rejected")->as_int(), 3) << r.out;
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 3) << why;
}

}  // namespace
}  // namespace tailor::reliability
