// SPDX-License-Identifier: MIT
// Damaged update logs, end to end: a corrupted record before the last one, a torn last record,
// hostile lengths and counts, another group's log, a missing log and one older than the snapshot.
// Damage is refused by every command, naming the file, and changes nothing; `tailor repair` keeps
// a copy and salvages every intact record.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <functional>
#include <set>

#include "reliability/support.hpp"
#include "tailor/tailor.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TAILOR_RELIABILITY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAILOR_RELIABILITY_ASAN 1
#endif
#endif

namespace tailor::reliability {
namespace {

constexpr int kRecords = 5, kEventsPerRecord = 40;

// A group whose log holds kRecords records (one put-events call each) of users r<k>-u<n>, and a
// trained solution. Built once; each test works on a copy.
const std::string& pristine_group() {
  static TempDir dir("corruption-pristine");
  static const std::string group = [] {
    const std::string g = dir / "g";
    create_group(dir.path, g);
    for (int k = 0; k < kRecords; ++k) {
      std::string text;
      for (int n = 0; n < kEventsPerRecord; ++n) {
        text += event_line("r" + std::to_string(k) + "-u" + std::to_string(n % 8),
                           "item-" + std::to_string(n % 13),
                           "r" + std::to_string(k) + "-e" + std::to_string(n), 1700000000 + n);
      }
      write_bytes(dir / "events.jsonl", text);
      if (cli(dir.path, {"put-events", g, "--input", dir / "events.jsonl"}).status != 0) {
        throw std::runtime_error("put-events failed");
      }
    }
    if (cli(dir.path, {"train", g, "--recipe", "popularity-count", "--no-metrics"}).status != 0) {
      throw std::runtime_error("train failed");
    }
    return g;
  }();
  return group;
}

// A copy of the pristine group in `dir`.
std::string copy_of_pristine(const TempDir& dir) {
  const std::string group = dir / "g";
  fs::copy(pristine_group(), group, fs::copy_options::recursive);
  fs::remove(group + "/lock");
  return group;
}

// Which of the records' users the group holds, as a set of record numbers (read with the C++ API).
std::set<int> records_present(const std::string& group) {
  StoreOptions read_only;
  read_only.access = StoreAccess::ReadOnly;
  auto store = Store::open(group, read_only);
  return store->group()->read([](const DatasetGroup& g) {
    std::set<int> present;
    for (int k = 0; k < kRecords; ++k) {
      const Index u = g.user_ids().find("r" + std::to_string(k) + "-u3");
      if (u != kNoIndex && g.interaction_rows_of(u).size() == kEventsPerRecord / 8)
        present.insert(k);
    }
    return present;
  });
}

// The commands of the journey, readers and writers, each of which must refuse a damaged group.
std::vector<std::vector<std::string>> journey(const TempDir& dir, const std::string& group) {
  write_bytes(dir / "new-events.jsonl", event_line("newcomer", "item-1", "new-1", 1800000000));
  return {{"info", group, "--json"},
          {"recommend", group, "--user", "r1-u1", "-n", "3"},
          {"put-events", group, "--input", dir / "new-events.jsonl"},
          {"import", group, "--dataset", "items", "--csv", data_dir() + "items.csv"},
          {"train", group, "--recipe", "popularity-count", "--no-metrics"}};
}

// Every command refuses the group with status 4 and `message` on stderr; no file changes.
void expect_every_command_refuses(const TempDir& dir, const std::string& group,
                                  const std::string& message) {
  const auto before = directory_bytes(group);
  for (const auto& args : journey(dir, group)) {
    const Result r = cli(dir.path, args);
    EXPECT_EQ(r.status, 4) << args[0] << ": " << r.err;
    EXPECT_TRUE(contains(r.err, message))
        << args[0] << " said: " << r.err << "\nexpected: " << message;
    EXPECT_TRUE(r.out.empty()) << args[0] << " printed: " << r.out;
  }
  EXPECT_EQ(directory_bytes(group), before)
      << "a refused command changed a file; now: " << names_of(directory_bytes(group));
}

// `tailor repair`: keeps the damaged log byte for byte, replays `records` intact records; then
// every command works and the group holds exactly the records `kept`.
void expect_repaired(const TempDir& dir, const std::string& group, const std::string& damaged,
                     int records, bool log_replaced, const std::set<int>& kept) {
  const Result r = cli(dir.path, {"repair", group, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const detail::Json report = json(r.out);
  EXPECT_TRUE(report.find("changed")->as_bool()) << r.out;
  EXPECT_EQ(report.find("recordsReplayed")->as_int(), records) << r.out;
  EXPECT_EQ(report.find("logReplaced")->as_bool(), log_replaced) << r.out;
  const std::string copy = report.find("damagedCopy")->as_string();
  if (damaged.empty()) {
    EXPECT_EQ(copy, "") << r.out;
  } else {
    ASSERT_TRUE(contains(copy, group + "/updates.log.damaged-")) << r.out;
    EXPECT_EQ(read_bytes(copy), damaged) << "the copy of the damaged log differs from it";
  }
  EXPECT_EQ(records_present(group), kept);
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why),
            static_cast<long>(kept.size()) * kEventsPerRecord)
      << why;
  for (const auto& args : journey(dir, group)) {
    const Result again = cli(dir.path, args);
    EXPECT_EQ(again.status, 0) << args[0] << " after repair: " << again.err;
  }
  // Repairing an intact group changes nothing.
  const auto before = directory_bytes(group);
  const Result twice = cli(dir.path, {"repair", group, "--json"});
  ASSERT_EQ(twice.status, 0) << twice.err;
  EXPECT_FALSE(json(twice.out).find("changed")->as_bool()) << twice.out;
  EXPECT_EQ(directory_bytes(group), before);
}

// Damages record `record` of the group's log with `damage`, checks that every command refuses it
// naming updates.log and the record's byte offset, and that repair salvages the other records.
void damage_a_middle_record(const char* name, int record,
                            const std::function<void(std::string&, const LogRecordSpan&)>& damage) {
  TempDir dir(name);
  const std::string group = copy_of_pristine(dir);
  const std::string log = group + "/updates.log";
  std::string bytes = read_bytes(log);
  const std::vector<LogRecordSpan> records = log_records(bytes);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kRecords));
  damage(bytes, records[record]);
  write_bytes(log, bytes);
  expect_every_command_refuses(
      dir, group,
      log + ": damaged record at byte " + std::to_string(records[record].offset) +
          " (intact records follow from byte " + std::to_string(records[record + 1].offset) + ")");
  EXPECT_EQ(read_bytes(log), bytes);
  std::set<int> kept;
  for (int k = 0; k < kRecords; ++k) {
    if (k != record) kept.insert(k);
  }
  expect_repaired(dir, group, bytes, kRecords - 1, false, kept);
}

TEST(ReliabilityCorruption, AFlippedLengthFieldInTheMiddleIsRefusedEverywhereAndRepaired) {
  damage_a_middle_record("length", 1, [](std::string& bytes, const LogRecordSpan& r) {
    bytes[r.offset + kRecordLengthOffset] ^= 0x01;      // one byte longer
    bytes[r.offset + kRecordLengthOffset + 2] ^= 0x40;  // and then some
  });
}

TEST(ReliabilityCorruption, AFlippedPayloadByteInTheMiddleIsRefusedEverywhereAndRepaired) {
  damage_a_middle_record("payload", 2, [](std::string& bytes, const LogRecordSpan& r) {
    bytes[r.offset + r.size / 2] ^= 0x20;
  });
}

TEST(ReliabilityCorruption, TheFirstRecordDamagedIsRefusedAndRepaired) {
  damage_a_middle_record("first", 0, [](std::string& bytes, const LogRecordSpan& r) {
    bytes[r.offset + 1] = 'X';  // the record's magic
  });
}

TEST(ReliabilityCorruption, ADamagedLogHeaderIsRefusedAndRepairSalvagesEveryRecord) {
  TempDir dir("header");
  const std::string group = copy_of_pristine(dir);
  const std::string log = group + "/updates.log";
  std::string bytes = read_bytes(log);
  bytes[30] ^= 0x01;  // in the group id
  write_bytes(log, bytes);
  expect_every_command_refuses(dir, group, log + ": damaged header at byte 0 (checksum mismatch)");
  EXPECT_EQ(read_bytes(log), bytes);
  expect_repaired(dir, group, bytes, kRecords, false, {0, 1, 2, 3, 4});
}

TEST(ReliabilityCorruption, ATornLastRecordIsIgnoredByReadersAndCutOffByAWriter) {
  // Cut into the last checksum, into the payload, and into the record's header.
  for (int where = 0; where < 3; ++where) {
    TempDir dir("torn-" + std::to_string(where));
    const std::string group = copy_of_pristine(dir);
    const std::string log = group + "/updates.log";
    const std::string good = read_bytes(log);
    const LogRecordSpan last = log_records(good).back();
    const std::size_t cut = where == 0 ? 3 : where == 1 ? 100 : last.size - 10;
    const std::string torn = good.substr(0, good.size() - cut);
    write_bytes(log, torn);
    // Readers see the first four records and change nothing, the lock included.
    const auto before = directory_bytes(group, true);
    std::string why;
    EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why),
              (kRecords - 1) * kEventsPerRecord)
        << why;
    EXPECT_EQ(cli(dir.path, {"recommend", group, "--user", "r1-u1", "-n", "3"}).status, 0);
    EXPECT_EQ(directory_bytes(group, true), before);
    // A writer cuts the torn record off and appends after the last whole one.
    const Result put =
        cli(dir.path, {"put-events", group, "--input", journey(dir, group)[2][3], "--json"});
    ASSERT_EQ(put.status, 0) << put.err;
    const std::string after = read_bytes(log);
    ASSERT_GT(after.size(), last.offset);
    EXPECT_EQ(after.substr(0, last.offset), good.substr(0, last.offset));
    const std::vector<LogRecordSpan> records = log_records(after);
    ASSERT_EQ(records.size(), static_cast<std::size_t>(kRecords));
    EXPECT_EQ(records.back().offset, last.offset);
    EXPECT_EQ(records.back().offset + records.back().size, after.size());
    EXPECT_EQ(records.back().sequence, static_cast<std::uint64_t>(kRecords));
    EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why),
              (kRecords - 1) * kEventsPerRecord + 1)
        << why;
    EXPECT_EQ(records_present(group), (std::set<int>{0, 1, 2, 3}));
  }
}

std::string with_u64(std::string bytes, std::size_t at, std::uint64_t value) {
  std::memcpy(bytes.data() + at, &value, 8);
  return bytes;
}

// Recomputes a record's checksums, as a writer that meant those bytes would have.
void reseal(std::string& bytes, std::size_t offset, std::size_t size) {
  const std::uint64_t head =
      IdMap::hash(std::string_view(bytes.data() + offset, kRecordHeaderBytes - 8));
  std::memcpy(bytes.data() + offset + kRecordHeaderBytes - 8, &head, 8);
  const std::uint64_t sum = IdMap::hash(std::string_view(bytes.data() + offset, size - 8));
  std::memcpy(bytes.data() + offset + size - 8, &sum, 8);
}

// Opens the group read-only in a child process whose address space is capped at what it uses
// now plus 256 MiB: a load that sized an allocation by the damaged length or count would fail
// with std::bad_alloc (or be killed) instead of refusing the file. Returns the child's verdict:
// "refused: <message>" or what went wrong.
std::string open_with_little_memory(const std::string& group) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string verdict;
#if !defined(TAILOR_RELIABILITY_ASAN)  // the sanitizer reserves terabytes of address space
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    const rlim_t cap =
        static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (256u << 20);
    const rlimit limit{cap, cap};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) verdict = "setrlimit failed";
#endif
    if (verdict.empty()) {
      try {
        StoreOptions read_only;
        read_only.access = StoreAccess::ReadOnly;
        Store::open(group, read_only);
        verdict = "opened";
      } catch (const Error& e) {
        verdict = std::string(e.code() == ErrorCode::ParseError ? "refused: " : "other error: ") +
                  e.what();
      } catch (const std::exception& e) {
        verdict = std::string("exception: ") + e.what();
      }
    }
    if (::write(pipe_fds[1], verdict.data(), verdict.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string verdict;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
    verdict.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status))
    return "the child died (signal " + std::to_string(WTERMSIG(status)) + "): " + verdict;
  return verdict;
}

TEST(ReliabilityCorruption, HugeLengthsAndCountsFailFastWithoutAllocating) {
  TempDir dir("huge");
  const std::string group = copy_of_pristine(dir);
  const std::string log = group + "/updates.log";
  const std::string good = read_bytes(log);
  const std::vector<LogRecordSpan> records = log_records(good);
  const LogRecordSpan middle = records[1];
  const std::string offset = "damaged record at byte " + std::to_string(middle.offset);

  // 2^60 as a middle record's length, with its header checksum wrong and then right.
  std::string bytes = with_u64(good, middle.offset + kRecordLengthOffset, std::uint64_t{1} << 60);
  write_bytes(log, bytes);
  std::string verdict = open_with_little_memory(group);
  EXPECT_TRUE(contains(verdict, "refused: " + log + ": " + offset)) << verdict;
  reseal(bytes, middle.offset, middle.size);
  write_bytes(log, bytes);
  verdict = open_with_little_memory(group);
  EXPECT_TRUE(contains(verdict, "refused: " + log + ": " + offset)) << verdict;
  const Result info = cli(dir.path, {"info", group});
  EXPECT_EQ(info.status, 4) << info.err;
  EXPECT_TRUE(contains(info.err, offset)) << info.err;
  EXPECT_EQ(read_bytes(log), bytes);

  // A whole, correctly sealed record whose payload says it holds as many events as it has bytes
  // (8 MiB of them): the count is checked against the bytes, not trusted for an allocation.
  const std::size_t padded = 8u << 20;
  const std::string payload =
      good.substr(middle.offset + kRecordHeaderBytes, middle.size - kRecordHeaderBytes - 8);
  // The payload starts with the archive's class header, then the event count (kEventsPerRecord).
  const std::uint64_t count = kEventsPerRecord;
  const std::size_t at = payload.find(std::string(reinterpret_cast<const char*>(&count), 8));
  ASSERT_NE(at, std::string::npos);
  std::string hostile = with_u64(payload, at, padded);
  hostile.resize(padded, '\x01');
  std::string record = good.substr(middle.offset, kRecordHeaderBytes);
  record = with_u64(record, kRecordLengthOffset, hostile.size());
  record += hostile + std::string(8, '\0');
  reseal(record, 0, record.size());
  bytes = good.substr(0, middle.offset) + record + good.substr(middle.offset + middle.size);
  write_bytes(log, bytes);
  verdict = open_with_little_memory(group);
  EXPECT_TRUE(contains(verdict, "refused: " + log)) << verdict;
  EXPECT_FALSE(contains(verdict, "bad_alloc")) << verdict;
  EXPECT_EQ(read_bytes(log), bytes);
}

TEST(ReliabilityCorruption, AnotherGroupsLogIsRefusedAndRepairStartsAFreshOne) {
  TempDir dir("foreign");
  const std::string group = copy_of_pristine(dir);
  const std::string other = dir / "other";
  create_group(dir.path, other);
  write_bytes(dir / "other.jsonl", event_line("stranger", "item-9", "x-1", 1700000000));
  ASSERT_EQ(cli(dir.path, {"put-events", other, "--input", dir / "other.jsonl"}).status, 0);
  const std::string foreign = read_bytes(other + "/updates.log");
  write_bytes(group + "/updates.log", foreign);
  expect_every_command_refuses(dir, group,
                               group + "/updates.log: belongs to another dataset group");
  // The group's own log is gone: only what its snapshot held (nothing of the five records) is left.
  expect_repaired(dir, group, foreign, 0, true, {});
  StoreOptions read_only;
  read_only.access = StoreAccess::ReadOnly;
  EXPECT_EQ(Store::open(group, read_only)->group()->read([](const DatasetGroup& g) {
    return g.user_ids().find("stranger");
  }),
            kNoIndex);
}

TEST(ReliabilityCorruption, AMissingLogIsRefusedAndRepairStartsAFreshOne) {
  TempDir dir("missing");
  const std::string group = copy_of_pristine(dir);
  fs::remove(group + "/updates.log");
  expect_every_command_refuses(dir, group, group + "/updates.log: missing");
  EXPECT_FALSE(fs::exists(group + "/updates.log"));
  expect_repaired(dir, group, "", 0, true, {});
}

TEST(ReliabilityCorruption, AnOlderLogRestoredAfterACheckpointIsRefusedAndRepaired) {
  TempDir dir("older");
  const std::string group = copy_of_pristine(dir);
  const std::string old_log = read_bytes(group + "/updates.log");  // records 1 to 5
  // An import checkpoints: the snapshot now holds the five records, and the log starts after them.
  ASSERT_EQ(
      cli(dir.path, {"import", group, "--dataset", "items", "--csv", data_dir() + "items.csv"})
          .status,
      0);
  write_bytes(dir / "more.jsonl", event_line("later", "item-2", "later-1", 1800000000));
  ASSERT_EQ(cli(dir.path, {"put-events", group, "--input", dir / "more.jsonl"}).status, 0);
  ASSERT_EQ(
      cli(dir.path, {"import", group, "--dataset", "items", "--csv", data_dir() + "items.csv"})
          .status,
      0);
  // Restoring the old log loses nothing the snapshot holds, but it is not this snapshot's log.
  write_bytes(group + "/updates.log", old_log);
  expect_every_command_refuses(
      dir, group,
      group + "/updates.log: ends at record 5 but group.snapshot holds records up to 6");
  const Result r = cli(dir.path, {"repair", group, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json(r.out).find("recordsReplayed")->as_int(), 0) << r.out;
  EXPECT_EQ(read_bytes(json(r.out).find("damagedCopy")->as_string()), old_log);
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why),
            kRecords * kEventsPerRecord + 1)
      << why;
  EXPECT_EQ(records_present(group), (std::set<int>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace tailor::reliability
