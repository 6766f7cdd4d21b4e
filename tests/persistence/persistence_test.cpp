// SPDX-License-Identifier: MIT
// Persistence: round trips, corruption and truncation of every file kind, hostile lengths, a full
// disk, and SIGKILL at random moments.
#include "tailor/persistence/persistence.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "common/sample.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  std::string path;
  TempDir() {
    static int counter = 0;
    path = (fs::temp_directory_path() / ("tailor-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))).string();
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

using test::sample_group;

EventRecord event(const std::string& user, const std::string& item, std::int64_t t) {
  EventRecord e;
  e.user_id = user;
  e.session_id = "s";
  e.item_id = item;
  e.event_type = "read";
  e.event_value = 0.5f;
  e.sent_at = t;
  return e;
}

// Everything observable about a group, as text, for equality checks.
std::string fingerprint(const DatasetGroup& g) {
  std::string out;
  const Interactions& in = g.interactions();
  for (std::size_t r = 0; r < in.size(); ++r) {
    out += std::string(g.user_ids().name(in.users()[r])) + "," + std::string(g.item_ids().name(in.items()[r])) + "," +
           std::to_string(in.timestamps()[r]) + "," +
           (in.event_types()[r] == kNoEventType ? "" : std::string(in.event_type_names().name(in.event_types()[r]))) +
           "," + (in.has_event_value(r) ? std::to_string(in.event_values()[r]) : "null") + "\n";
  }
  for (const EntityTable* t : {g.users(), g.items()}) {
    const IdMap& ids = t == g.users() ? g.user_ids() : g.item_ids();
    for (Index e = 0; e < ids.size(); ++e) {
      const std::uint32_t row = t->row_of(e);
      if (row == EntityTable::kNoRow) continue;
      out += std::string(ids.name(e)) + ":";
      for (const Column& c : t->columns()) {
        if (c.is_null(row)) out += "null";
        else if (c.field().is_numeric()) out += std::to_string(c.number_at(row));
        else if (c.field().categorical) {
          for (Index code : c.codes_at(row)) out += std::string(c.dictionary().name(code)) + "|";
        } else out += std::string(c.text_at(row));
        out += ";";
      }
      out += "\n";
    }
  }
  return out;
}

std::string state_of(const Store& s) {
  return s.group()->read([](const DatasetGroup& g) { return fingerprint(g); });
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void expect_refused(const std::function<void()>& open, const std::string& file) {
  try {
    open();
    FAIL() << "accepted a damaged " << file;
  } catch (const Error& e) {
    EXPECT_TRUE(e.code() == ErrorCode::ParseError || e.code() == ErrorCode::IncompatibleVersion) << e.what();
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

TEST(PersistenceStore, RoundTripThroughSnapshotAndThroughLogReplay) {
  TempDir dir;
  std::string expected;
  {
    auto store = Store::create(dir.path, sample_group());
    ASSERT_TRUE(store->put_events({event("user-0001", "item-0002", 1800000000), event("new-user", "new-item", 1800000001)}).ok());
    ASSERT_TRUE(store->put_items({{"item-0003", R"({"contentType":"document","community":"Data Hub","tags":"a|b","creationTimestamp":7})"}}).ok());
    ASSERT_TRUE(store->put_users({{"user-0005", R"({"department":"Sales","country":"FR","role":"manager"})"}}).ok());
    EXPECT_GT(store->log_bytes(), 100u);
    expected = state_of(*store);
  }
  {
    auto reopened = Store::open(dir.path);  // snapshot + log replay
    EXPECT_EQ(state_of(*reopened), expected);
    reopened->checkpoint();
  }
  auto again = Store::open(dir.path);  // snapshot only
  EXPECT_EQ(state_of(*again), expected);
  EXPECT_THROW(Store::create(dir.path, sample_group()), Error);
  EXPECT_THROW(Store::open(dir.path + "/nope"), Error);
}

TEST(PersistenceStore, SolutionVersionsRoundTripWithIdenticalScores) {
  TempDir dir;
  auto store = Store::create(dir.path, sample_group());
  for (const char* recipe : {"user-personalization", "sims", "popularity-count"}) {
    Solution solution({recipe, recipe, std::string(recipe) == "user-personalization" ? R"({"factors": 8, "iterations": 3})" : "{}", {}});
    SolutionVersion v = store->group()->read([&](const DatasetGroup& g) { return solution.train(g); });
    store->save_version(v);
    SolutionVersion back = store->load_version(recipe);
    EXPECT_EQ(back.config().params_json, v.config().params_json);
    ASSERT_TRUE(back.metrics().has_value());
    EXPECT_EQ(back.metrics()->to_json(), v.metrics()->to_json());
    EXPECT_EQ(back.model()->recipe(), recipe);
    std::vector<Index> history = {1, 2, 3};
    UserQuery q;
    q.user = 4;
    q.history = history;
    std::vector<float> a, b;
    v.model()->score_all(q, a);
    back.model()->score_all(q, b);
    EXPECT_EQ(a, b) << recipe;
  }
  EXPECT_EQ(store->solutions().size(), 3u);
  EXPECT_THROW(store->load_version("missing"), Error);
  EXPECT_THROW(store->load_version("../etc"), Error);
}

TEST(PersistenceStore, FiltersAndCampaignDefinitionsPersist) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    store->save_filter("unread", R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))");
    store->save_filter("finance", R"(INCLUDE ItemID WHERE Items.COMMUNITY IN ("Finance Hub"))");
    store->save_filter("unread", R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read", "like"))");
    EXPECT_THROW(store->save_filter("broken", "INCLUDE ItemID WHERE"), Error);
    EXPECT_THROW(store->save_filter("bad name", R"(EXCLUDE ItemID WHERE Items.COMMUNITY IN ("x"))"), Error);
    Solution solution({"pop", "popularity-count", "{}", {}});
    TrainOptions o;
    o.compute_metrics = false;
    store->save_version(store->group()->read([&](const DatasetGroup& g) { return solution.train(g, o); }));
    store->save_campaign("homepage", "pop");
    EXPECT_THROW(store->save_campaign("other", "no-such-solution"), Error);
  }
  auto store = Store::open(dir.path);
  const auto filters = store->filters();
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(filters[0].first, "unread");
  EXPECT_NE(filters[0].second.find("\"like\""), std::string::npos);
  EXPECT_EQ(store->filter("finance").expression(), filters[1].second);
  EXPECT_THROW(store->filter("nope"), Error);
  ASSERT_EQ(store->campaigns().size(), 1u);
  EXPECT_EQ(store->campaigns()[0].second, "pop");
  std::string catalog = read_bytes(dir.path + "/catalog");
  catalog[catalog.size() / 2] ^= 0x11;
  write_bytes(dir.path + "/catalog", catalog);
  expect_refused([&] { store->filters(); }, dir.path + "/catalog");
}

TEST(PersistenceStore, CorruptedAndTruncatedFilesAreRefusedNamingTheFile) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    Solution solution({"pop", "popularity-count", "{}", {}});
    TrainOptions o;
    o.compute_metrics = false;
    store->save_version(store->group()->read([&](const DatasetGroup& g) { return solution.train(g, o); }));
  }
  const std::string snapshot = dir.path + "/group.snapshot";
  const std::string version = dir.path + "/solutions/pop.version";
  for (const std::string& file : {snapshot, version}) {
    const std::string good = read_bytes(file);
    auto open = [&] {
      if (file == snapshot) Store::open(dir.path);
      else load_version(file);
    };
    std::mt19937 rng(3);
    for (int k = 0; k < 12; ++k) {  // flip one byte somewhere
      std::string bad = good;
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      write_bytes(file, bad);
      expect_refused(open, file);
    }
    for (std::size_t length : {std::size_t{0}, std::size_t{5}, std::size_t{30}, good.size() / 2, good.size() - 1}) {
      write_bytes(file, good.substr(0, length));
      expect_refused(open, file);
    }
    write_bytes(file, "USER_ID,ITEM_ID\nu,i\n");  // a foreign file
    expect_refused(open, file);
    std::string newer = good;
    newer[8] = 9;  // format version 9
    write_bytes(file, newer);
    try {
      open();
      FAIL();
    } catch (const Error& e) {
      EXPECT_TRUE(e.code() == ErrorCode::IncompatibleVersion || e.code() == ErrorCode::ParseError);
    }
    write_bytes(file, good);
    open();  // intact again
  }
}

TEST(PersistenceStore, TornLastLogRecordIsDroppedAndMiddleCorruptionRefused) {
  TempDir dir;
  std::string after_two;
  {
    auto store = Store::create(dir.path, sample_group());
    ASSERT_TRUE(store->put_events({event("a", "x1", 1)}).ok());
    ASSERT_TRUE(store->put_events({event("b", "x2", 2)}).ok());
    after_two = state_of(*store);
    ASSERT_TRUE(store->put_events({event("c", "x3", 3)}).ok());
  }
  const std::string log = dir.path + "/updates.log";
  const std::string good = read_bytes(log);
  // Cut the last record anywhere: the first two survive, the third is dropped whole.
  for (std::size_t cut : {std::size_t{1}, std::size_t{9}, std::size_t{40}}) {
    write_bytes(log, good.substr(0, good.size() - cut));
    auto store = Store::open(dir.path);
    EXPECT_EQ(state_of(*store), after_two) << "cut " << cut;
    ASSERT_TRUE(store->put_events({event("c", "x3", 3)}).ok());  // the log is usable again
  }
  // A flipped byte in the first record is corruption, not a torn tail.
  std::string bad = good;
  bad[40] ^= 0x5a;
  write_bytes(log, bad);
  expect_refused([&] { Store::open(dir.path); }, log);
}

TEST(PersistenceStore, HostileLengthsNeverAllocateOrCrash) {
  TempDir dir;
  { Store::create(dir.path, sample_group()); }
  const std::string snapshot = dir.path + "/group.snapshot";
  const std::string good = read_bytes(snapshot);
  // Rewrite the payload with garbage (huge lengths) but a valid frame and checksum.
  std::mt19937 rng(5);
  for (int k = 0; k < 20; ++k) {
    std::string payload(64 + rng() % 512, '\0');
    for (char& c : payload) c = static_cast<char>(k % 2 ? 0xFF : rng());
    std::string bytes = good.substr(0, 16);
    std::uint64_t length = payload.size();
    bytes.append(reinterpret_cast<const char*>(&length), 8);
    bytes += payload;
    const std::uint64_t sum = IdMap::hash(bytes);
    bytes.append(reinterpret_cast<const char*>(&sum), 8);
    write_bytes(snapshot, bytes);
    expect_refused([&] { Store::open(dir.path); }, snapshot);
  }
}

TEST(PersistenceStore, AFullDiskLeavesThePreviousStateIntact) {
  TempDir dir;
  std::string before;
  {
    auto store = Store::create(dir.path, sample_group());
    ASSERT_TRUE(store->put_events({event("a", "x1", 1)}).ok());
    before = state_of(*store);
    detail::fail_writes_after(1000);  // the snapshot is far larger: its write fails midway
    EXPECT_THROW(store->checkpoint(), Error);
    detail::fail_writes_after(10);  // the next log record fails too
    EXPECT_THROW(store->put_events({event("b", "x2", 2)}), Error);
    detail::fail_writes_after(0);
    EXPECT_EQ(state_of(*store), before);  // the failed put applied nothing
  }
  EXPECT_FALSE(fs::exists(dir.path + "/group.snapshot.tmp"));
  auto reopened = Store::open(dir.path);
  EXPECT_EQ(state_of(*reopened), before);
}

TEST(PersistenceStore, SigkillAtRandomMomentsKeepsEveryAcknowledgedUpdate) {
  std::mt19937 rng(20261128);
  for (int round = 0; round < 4; ++round) {
    TempDir dir;
    { Store::create(dir.path, sample_group()); }
    int acks[2];
    ASSERT_EQ(::pipe(acks), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The child: send events and checkpoint now and then; report each acknowledged event.
      ::close(acks[0]);
      try {
        auto store = Store::open(dir.path);
        for (int k = 0;; ++k) {
          if (!store->put_events({event("crash-user", "e" + std::to_string(k), k)}).ok()) ::_exit(3);
          if (::write(acks[1], &k, sizeof k) != sizeof k) ::_exit(4);
          if (k % 25 == 24) store->checkpoint();
        }
      } catch (...) {
        ::_exit(5);
      }
    }
    ::close(acks[1]);
    // Wait for the first acknowledgement (opening the store may be slow under sanitizers), then
    // let the child run for a random while before killing it.
    int last_ack = -1, k = 0;
    if (::read(acks[0], &k, sizeof k) == sizeof k) last_ack = k;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 150));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself with status " << status;
    while (::read(acks[0], &k, sizeof k) == sizeof k) last_ack = k;
    ::close(acks[0]);
    ASSERT_GE(last_ack, 0) << "the child acknowledged nothing";
    auto store = Store::open(dir.path);
    // The group holds events e0 ... en without gaps, n >= the last acknowledged one.
    const std::vector<std::string> items = store->group()->read([](const DatasetGroup& g) {
      std::vector<std::string> out;
      for (std::uint32_t r : g.interaction_rows_of(g.user_ids().find("crash-user"))) {
        out.emplace_back(g.item_ids().name(g.interactions().items()[r]));
      }
      return out;
    });
    ASSERT_GE(static_cast<int>(items.size()), last_ack + 1) << "round " << round;
    for (std::size_t i = 0; i < items.size(); ++i) ASSERT_EQ(items[i], "e" + std::to_string(i));
  }
}

TEST(PersistenceStore, CreateRefusesAnEmptyNameAFileAndANonEmptyDirectoryWritingNothing) {
  auto expect_invalid = [](const std::string& dir, const char* message) {
    try {
      Store::create(dir, sample_group());
      ADD_FAILURE() << "created a store in \"" << dir << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  expect_invalid("", "the path is empty");  // would have written into "/"
  TempDir dir;
  fs::create_directories(dir.path);
  write_bytes(dir.path + "/file", "mine");
  expect_invalid(dir.path, "is not empty");
  expect_invalid(dir.path + "/file", "is not a directory");
  EXPECT_EQ(read_bytes(dir.path + "/file"), "mine");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);

  // An existing empty directory is fine.
  fs::create_directory(dir.path + "/empty");
  EXPECT_NO_THROW(Store::create(dir.path + "/empty", sample_group()));
  expect_invalid(dir.path + "/empty", "is not empty");  // a store now
}

}  // namespace
}  // namespace tailor
