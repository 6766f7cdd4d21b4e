// SPDX-License-Identifier: MIT
// Persistence: round trips, corruption and truncation of every file kind, hostile lengths, a full
// disk, and SIGKILL at random moments.
#include "tailor/persistence/persistence.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "common/sample.hpp"
#include "persistence/fault_injection.hpp"
#include "persistence/files.hpp"
#include "persistence/serialize.hpp"
#include "tailor/error.hpp"
#include "tailor/recipes/als.hpp"

namespace tailor {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  std::string path;
  TempDir() {
    static int counter = 0;
    path = (fs::temp_directory_path() /
            ("tailor-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
               .string();
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
    out += std::string(g.user_ids().name(in.users()[r])) + "," +
           std::string(g.item_ids().name(in.items()[r])) + "," +
           std::to_string(in.timestamps()[r]) + "," +
           (in.event_types()[r] == kNoEventType
                ? ""
                : std::string(in.event_type_names().name(in.event_types()[r]))) +
           "," + (in.has_event_value(r) ? std::to_string(in.event_values()[r]) : "null") + "\n";
  }
  for (const EntityTable* t : {g.users(), g.items()}) {
    const IdMap& ids = t == g.users() ? g.user_ids() : g.item_ids();
    for (Index e = 0; e < ids.size(); ++e) {
      const std::uint32_t row = t->row_of(e);
      if (row == EntityTable::kNoRow) continue;
      out += std::string(ids.name(e)) + ":";
      for (const Column& c : t->columns()) {
        if (c.is_null(row))
          out += "null";
        else if (c.field().is_numeric())
          out += std::to_string(c.number_at(row));
        else if (c.field().categorical) {
          for (Index code : c.codes_at(row)) out += std::string(c.dictionary().name(code)) + "|";
        } else
          out += std::string(c.text_at(row));
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
    EXPECT_TRUE(e.code() == ErrorCode::ParseError || e.code() == ErrorCode::IncompatibleVersion)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

TEST(PersistenceStore, RoundTripThroughSnapshotAndThroughLogReplay) {
  TempDir dir;
  std::string expected;
  {
    auto store = Store::create(dir.path, sample_group());
    ASSERT_TRUE(store
                    ->put_events({event("user-0001", "item-0002", 1800000000),
                                  event("new-user", "new-item", 1800000001)})
                    .ok());
    ASSERT_TRUE(
        store
            ->put_items(
                {{"item-0003",
                  R"({"contentType":"document","community":"Data Hub","tags":"a|b","creationTimestamp":7})"}})
            .ok());
    ASSERT_TRUE(store
                    ->put_users({{"user-0005",
                                  R"({"department":"Sales","country":"FR","role":"manager"})"}})
                    .ok());
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

TEST(PersistenceStore, EventLogRecordsCarryEventIdAndAnAbsentSentAt) {
  EventRecord full = event("u1", "i1", 1700000000);
  full.event_id = "e-42";
  full.impression = {"i1", "i2"};
  full.properties = R"({"device":"phone"})";
  EventRecord no_time = event("u2", "i2", 0);
  no_time.sent_at.reset();
  no_time.event_value.reset();
  const std::vector<EventRecord> back =
      detail::deserialize_events(detail::serialize_events({full, no_time}), "log");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].event_id, "e-42");
  ASSERT_TRUE(back[0].sent_at.has_value());
  EXPECT_EQ(*back[0].sent_at, 1700000000);
  EXPECT_EQ(back[0].impression, full.impression);
  EXPECT_EQ(back[0].properties, full.properties);
  EXPECT_FALSE(back[1].sent_at.has_value());  // absent stays absent: never 1970
  EXPECT_FALSE(back[1].event_value.has_value());
  EXPECT_EQ(back[1].user_id, "u2");

  // A log record written before eventId existed (EventRecord version 0) still reads.
  const std::string old_record(
      "\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00"
      "\x00\x00\x00\x75\x31\x02\x00\x00\x00\x00\x00\x00\x00\x73\x31\x02\x00\x00\x00\x00\x00\x00\x00"
      "\x69\x31\x05\x00\x00\x00\x00\x00\x00\x00\x63\x6c\x69\x63\x6b\x01\x00\x00\x20\x40\x00\xf1\x53"
      "\x65\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x69\x31"
      "\x02\x00\x00\x00\x00\x00\x00\x00\x69\x32\x01\x00\x00\x00\x00\x00\x00\x00\x72\x07\x00\x00\x00"
      "\x00\x00\x00\x00\x7b\x22\x78\x22\x3a\x31\x7d",
      126);
  const std::vector<EventRecord> old = detail::deserialize_events(old_record, "old log");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].user_id, "u1");
  EXPECT_EQ(old[0].session_id, "s1");
  EXPECT_EQ(old[0].item_id, "i1");
  EXPECT_EQ(old[0].event_type, "click");
  ASSERT_TRUE(old[0].event_value.has_value());
  EXPECT_EQ(*old[0].event_value, 2.5f);
  ASSERT_TRUE(old[0].sent_at.has_value());
  EXPECT_EQ(*old[0].sent_at, 1700000000);
  EXPECT_EQ(old[0].event_id, "");
  EXPECT_EQ(old[0].impression, (std::vector<std::string>{"i1", "i2"}));
  EXPECT_EQ(old[0].recommendation_id, "r");
  EXPECT_EQ(old[0].properties, R"({"x":1})");
}

TEST(PersistenceStore, SolutionVersionsRoundTripWithIdenticalScores) {
  TempDir dir;
  auto store = Store::create(dir.path, sample_group());
  for (const char* recipe : {"user-personalization", "sims", "popularity-count"}) {
    Solution solution({recipe,
                       recipe,
                       std::string(recipe) == "user-personalization"
                           ? R"({"factors": 8, "iterations": 3})"
                           : "{}",
                       {}});
    SolutionVersion v =
        store->group()->read([&](const DatasetGroup& g) { return solution.train(g); });
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

TEST(PersistenceStore, TrainingRanksRoundTripInTheVersionAndTheIndex) {
  TempDir dir;
  auto store = Store::create(dir.path, sample_group(false, false));
  TrainOptions o;
  o.compute_metrics = false;
  const SolutionVersion v = store->group()->read([&](const DatasetGroup& g) {
    return Solution({"pop", "popularity-count", "{}", {}}).train(g, o);
  });
  EXPECT_EQ(v.training_ranks(), 1);
  store->save_version(v);
  store->save_version(SolutionVersion(v.config(), v.mode(), v.model(), v.metrics(),
                                      v.baseline_metrics(), v.training_seconds(), 4));
  EXPECT_EQ(store->load_version("pop").training_ranks(), 4);
  const std::vector<VersionInfo> versions = store->versions("pop");
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].training_ranks, 1);
  EXPECT_EQ(versions[1].training_ranks, 4);
  EXPECT_THROW(SolutionVersion(v.config(), v.mode(), v.model(), {}, {}, 0, 0), Error);
}

TEST(PersistenceStore, EventValueAsWeightRoundTripsAndOlderVersionsKeepTheirWeighting) {
  TempDir dir;
  fs::create_directories(dir.path);
  const DatasetGroup group = sample_group(false, false);
  TrainOptions o;
  o.compute_metrics = false;
  const std::string path = dir.path + "/pop.version";
  for (bool on : {true, false}) {
    EventSelection events =
        EventSelection::from_json(R"({"eventTypes":["read"],"eventValueThreshold":0.25})");
    events.event_value_as_weight = on;
    save_version(Solution({"pop", "popularity-count", "{}", events}).train(group, o), path);
    const SolutionVersion back = load_version(path);
    EXPECT_EQ(back.config().events.event_value_as_weight, on);
    EXPECT_EQ(back.config().events.event_types, std::vector<std::string>{"read"});
    ASSERT_TRUE(back.config().events.event_value_threshold.has_value());
    EXPECT_FLOAT_EQ(*back.config().events.event_value_threshold, 0.25f);
  }
  // A version saved before the setting existed has no eventValueAsWeight key: it was trained
  // with EVENT_VALUE as a weight and loads that way. Make one by blanking the key (same length,
  // so the frame's length holds) and re-sealing the checksum.
  std::string bytes = read_bytes(path);
  const std::string key = "\"eventValueAsWeight\":false,";
  const std::size_t at = bytes.find(key);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, key.size(), std::string(key.size(), ' '));
  const std::uint64_t sum = IdMap::hash(std::string_view(bytes.data(), bytes.size() - 8));
  std::memcpy(&bytes[bytes.size() - 8], &sum, sizeof sum);
  write_bytes(path, bytes);
  const SolutionVersion old = load_version(path);
  EXPECT_TRUE(old.config().events.event_value_as_weight);
  EXPECT_EQ(old.config().events.event_types, std::vector<std::string>{"read"});
}

TEST(PersistenceStore, FiltersAndCampaignDefinitionsPersist) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    store->save_filter("unread", R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))");
    store->save_filter("finance", R"(INCLUDE ItemID WHERE Items.COMMUNITY IN ("Finance Hub"))");
    store->save_filter("unread",
                       R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read", "like"))");
    EXPECT_THROW(store->save_filter("broken", "INCLUDE ItemID WHERE"), Error);
    EXPECT_THROW(store->save_filter("bad name", R"(EXCLUDE ItemID WHERE Items.COMMUNITY IN ("x"))"),
                 Error);
    Solution solution({"pop", "popularity-count", "{}", {}});
    TrainOptions o;
    o.compute_metrics = false;
    store->save_version(
        store->group()->read([&](const DatasetGroup& g) { return solution.train(g, o); }));
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

// A quick version of solution `name`; its "read" weight is `mark`, so that tests can tell versions
// apart after a round trip.
SolutionVersion marked_version(const Store& store, const std::string& name, int mark) {
  SolutionConfig config{name, "popularity-count", "{}", {}};
  config.events.event_type_weights = {{"read", static_cast<float>(mark)}};
  Solution solution(config);
  TrainOptions o;
  o.compute_metrics = false;
  return store.group()->read([&](const DatasetGroup& g) { return solution.train(g, o); });
}
int mark_of(const SolutionVersion& v) {
  return static_cast<int>(v.config().events.event_type_weights.at(0).second);
}
std::vector<std::string> ids_of(const std::vector<VersionInfo>& versions) {
  std::vector<std::string> ids;
  for (const VersionInfo& v : versions) ids.push_back(v.id);
  return ids;
}
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}
void expect_code(const std::function<void()>& call, ErrorCode code, const std::string& mention) {
  try {
    call();
    FAIL() << "no error; expected one mentioning " << mention;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
  }
}

TEST(PersistenceVersions, SavingKeepsTheLastFiveAndTheNewestIsActive) {
  TempDir dir;
  auto store = Store::create(dir.path, sample_group());
  const auto before = std::chrono::system_clock::now();
  for (int k = 1; k <= 7; ++k) {
    char expected[16];
    std::snprintf(expected, sizeof expected, "%06d", k);
    EXPECT_EQ(store->save_version(marked_version(*store, "pop", k)), expected);
    EXPECT_EQ(store->active_version("pop"), expected);
  }
  const auto after = std::chrono::system_clock::now();
  const std::vector<VersionInfo> versions = store->versions("pop");
  EXPECT_EQ(ids_of(versions),
            (std::vector<std::string>{"000003", "000004", "000005", "000006", "000007"}));
  const auto seconds = [](auto t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  for (const VersionInfo& v : versions) {
    EXPECT_EQ(v.recipe, "popularity-count");
    EXPECT_EQ(v.mode, TrainingMode::Full);
    EXPECT_FALSE(v.metrics.has_value());
    EXPECT_GE(v.created_at, seconds(before));
    EXPECT_LE(v.created_at, seconds(after));
  }
  // Pruned versions are gone from disk too; the kept ones load with their own contents.
  EXPECT_EQ(files_in(dir.path + "/solutions/pop"),
            (std::vector<std::string>{"000003.version", "000004.version", "000005.version",
                                      "000006.version", "000007.version", "index"}));
  EXPECT_EQ(store->version_files().size(), 5u);
  EXPECT_EQ(mark_of(store->load_version("pop")), 7);
  EXPECT_EQ(mark_of(store->load_version("pop", "000004")), 4);
  // An unknown id is refused with the kept ids listed.
  expect_code([&] { store->load_version("pop", "000002"); }, ErrorCode::NotFound, "000003");
  expect_code([&] { store->load_version("pop", "../pop"); }, ErrorCode::NotFound, "../pop");
  expect_code([&] { store->versions("nope"); }, ErrorCode::NotFound, "nope");

  // Files a crash could leave (a version written but never listed, a temporary) go at the next
  // save; ids are never reused.
  write_bytes(dir.path + "/solutions/pop/000008.version", "half written");
  write_bytes(dir.path + "/solutions/pop/index.tmp", "half written");
  EXPECT_EQ(store->save_version(marked_version(*store, "pop", 8)), "000008");
  EXPECT_EQ(files_in(dir.path + "/solutions/pop").size(), 6u);
  EXPECT_EQ(mark_of(store->load_version("pop")), 8);
}

TEST(PersistenceVersions, ActivateRollsBackAndForwardAndSurvivesReopening) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    for (int k = 1; k <= 3; ++k) store->save_version(marked_version(*store, "pop", k));
    store->save_version(marked_version(*store, "other", 9));
    store->activate("pop", "000001");
    EXPECT_EQ(mark_of(store->load_version("pop")), 1);
    EXPECT_EQ(store->active_version("other"), "000001");  // other solutions are untouched
    expect_code([&] { store->activate("pop", "000004"); }, ErrorCode::NotFound, "000004");
    expect_code([&] { store->activate("pop", ""); }, ErrorCode::NotFound, "pop");
    expect_code([&] { store->activate("nope", "000001"); }, ErrorCode::NotFound, "nope");
    EXPECT_EQ(store->active_version("pop"), "000001");  // a refused activation changes nothing
  }
  {
    auto store = Store::open(dir.path);
    EXPECT_EQ(store->solutions(), (std::vector<std::string>{"other", "pop"}));
    EXPECT_EQ(store->active_version("pop"), "000001");
    EXPECT_EQ(mark_of(store->load_version("pop")), 1);
    store->activate("pop", "000003");  // forward again
  }
  auto store = Store::open(dir.path);
  EXPECT_EQ(mark_of(store->load_version("pop")), 3);
  EXPECT_EQ(store->versions("pop").size(), 3u);  // activating never deletes
}

TEST(PersistenceVersions, PruningHonoursTheLimitAndKeepsTheActiveVersion) {
  TempDir dir;
  StoreOptions options;
  options.versions_kept = 2;
  auto store = Store::create(dir.path, sample_group(), options);
  store->save_version(marked_version(*store, "pop", 1));
  store->save_version(marked_version(*store, "pop", 2));
  store->activate("pop", "000001");
  // The new version becomes active; the oldest inactive one goes, whether or not it was the
  // rolled-back one.
  store->save_version(marked_version(*store, "pop", 3));
  EXPECT_EQ(ids_of(store->versions("pop")), (std::vector<std::string>{"000002", "000003"}));
  EXPECT_EQ(store->active_version("pop"), "000003");
  EXPECT_EQ(mark_of(store->load_version("pop")), 3);

  store.reset();  // one writer at a time
  options.versions_kept = 1;
  auto one = Store::open(dir.path, options);
  one->save_version(marked_version(*one, "pop", 4));
  EXPECT_EQ(ids_of(one->versions("pop")), (std::vector<std::string>{"000004"}));
  EXPECT_EQ(mark_of(one->load_version("pop")), 4);

  one.reset();
  for (int bad : {0, -1}) {
    options.versions_kept = bad;
    auto refused = Store::open(dir.path, options);
    expect_code([&] { refused->save_version(marked_version(*refused, "pop", 5)); },
                ErrorCode::InvalidArgument, "versions_kept");
  }
  options.access = StoreAccess::ReadOnly;
  EXPECT_EQ(ids_of(Store::open(dir.path, options)->versions("pop")),
            (std::vector<std::string>{"000004"}));
}

TEST(PersistenceVersions, AnInconsistentIndexIsRefusedNamingIt) {
  TempDir dir;
  auto store = Store::create(dir.path, sample_group());
  store->save_version(marked_version(*store, "pop", 1));
  store->save_version(marked_version(*store, "pop", 2));
  const std::string index = dir.path + "/solutions/pop/index";
  const std::string good = read_bytes(index);
  // Well-framed indexes whose contents contradict themselves.
  auto write_index = [&](const detail::VersionIndex& contents) {
    const std::string payload = detail::serialize_version_index(contents);
    std::string bytes = good.substr(0, 16);
    const std::uint64_t length = payload.size();
    bytes.append(reinterpret_cast<const char*>(&length), 8);
    bytes += payload;
    const std::uint64_t sum = IdMap::hash(bytes);
    bytes.append(reinterpret_cast<const char*>(&sum), 8);
    write_bytes(index, bytes);
  };
  VersionInfo info;
  info.id = "000001";
  for (const auto& [active, ids] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"000003", {"000001", "000002"}},  // the active one is not listed
           {"../x", {"../x"}},                // not an id (a path)
           {"000002", {"000002", "000001"}},  // out of order
           {"000007", {"000007"}},            // beyond the next id
           {"", {}}}) {                       // no version at all
    detail::VersionIndex contents;
    contents.next_id = 3;
    contents.active = active;
    for (const std::string& id : ids) {
      info.id = id;
      contents.versions.push_back(info);
    }
    write_index(contents);
    expect_refused([&] { store->versions("pop"); }, index);
    expect_refused([&] { store->load_version("pop"); }, index);
    expect_refused([&] { store->save_version(marked_version(*store, "pop", 3)); }, index);
  }
  write_bytes(index, good);
  EXPECT_EQ(mark_of(store->load_version("pop")), 2);
}

TEST(PersistenceVersions, TheOldOneFileLayoutIsReadAndMovedOnTheNextWrite) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    store->save_version(marked_version(*store, "pop", 1));
    store->save_version(marked_version(*store, "sims", 5));
  }
  // Rewrite them as a store from before versions were kept: solutions/<name>.version. The version
  // file format itself did not change.
  for (const char* name : {"pop", "sims"}) {
    const std::string solution = dir.path + "/solutions/" + name;
    fs::rename(solution + "/000001.version", solution + ".version");
    fs::remove_all(solution);
  }
  auto store = Store::open(dir.path);
  EXPECT_EQ(store->solutions(), (std::vector<std::string>{"pop", "sims"}));
  const std::vector<VersionInfo> versions = store->versions("pop");
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].id, "000001");
  EXPECT_EQ(versions[0].recipe, "popularity-count");
  EXPECT_GT(versions[0].created_at, 0);
  EXPECT_EQ(store->active_version("pop"), "000001");
  EXPECT_EQ(mark_of(store->load_version("pop")), 1);
  EXPECT_EQ(mark_of(store->load_version("pop", "000001")), 1);
  expect_code([&] { store->load_version("pop", "000002"); }, ErrorCode::NotFound, "000002");
  EXPECT_EQ(store->version_files(),
            (std::vector<std::string>{dir.path + "/solutions/pop.version",
                                      dir.path + "/solutions/sims.version"}));

  // Saving moves the old version into the new layout and keeps it as 000001.
  EXPECT_EQ(store->save_version(marked_version(*store, "pop", 2)), "000002");
  EXPECT_FALSE(fs::exists(dir.path + "/solutions/pop.version"));
  EXPECT_EQ(ids_of(store->versions("pop")), (std::vector<std::string>{"000001", "000002"}));
  store->activate("pop", "000001");
  EXPECT_EQ(mark_of(store->load_version("pop")), 1);
  // Activating moves it as well.
  store->activate("sims", "000001");
  EXPECT_FALSE(fs::exists(dir.path + "/solutions/sims.version"));
  StoreOptions reader;
  reader.access = StoreAccess::ReadOnly;
  EXPECT_EQ(mark_of(Store::open(dir.path, reader)->load_version("sims")), 5);
  EXPECT_EQ(store->version_files().size(), 3u);
}

TEST(PersistenceStore, CorruptedAndTruncatedFilesAreRefusedNamingTheFile) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    Solution solution({"pop", "popularity-count", "{}", {}});
    TrainOptions o;
    o.compute_metrics = false;
    store->save_version(
        store->group()->read([&](const DatasetGroup& g) { return solution.train(g, o); }));
  }
  const std::string snapshot = dir.path + "/group.snapshot";
  const std::string version = dir.path + "/solutions/pop/000001.version";
  const std::string index = dir.path + "/solutions/pop/index";
  for (const std::string& file : {snapshot, version, index}) {
    const std::string good = read_bytes(file);
    auto open = [&] {
      if (file == snapshot)
        Store::open(dir.path);
      else if (file == version)
        Store::open(dir.path)->load_version("pop");
      else
        Store::open(dir.path)->versions("pop");
    };
    std::mt19937 rng(3);
    for (int k = 0; k < 12; ++k) {  // flip one byte somewhere
      std::string bad = good;
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      write_bytes(file, bad);
      expect_refused(open, file);
    }
    for (std::size_t length :
         {std::size_t{0}, std::size_t{5}, std::size_t{30}, good.size() / 2, good.size() - 1}) {
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
          if (!store->put_events({event("crash-user", "e" + std::to_string(k), k)}).ok())
            ::_exit(3);
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

// The update log's layout (update_log.cpp): a 72-byte header, then records of a 32-byte header
// (magic, kind, sequence, payload length at +16, header checksum) + payload + checksum.
constexpr std::size_t kLogHeader = 72;
constexpr std::size_t kRecordLengthField = 16;

// Offsets at which the log's records start.
std::vector<std::size_t> record_offsets(const std::string& log) {
  std::vector<std::size_t> out;
  for (std::size_t pos = kLogHeader; pos + 32 <= log.size();) {
    out.push_back(pos);
    std::uint64_t length = 0;
    std::memcpy(&length, log.data() + pos + kRecordLengthField, 8);
    pos += 32 + length + 8;
  }
  return out;
}

StoreOptions read_only() {
  StoreOptions o;
  o.access = StoreAccess::ReadOnly;
  return o;
}

TEST(PersistenceStore, DamageBeforeTheLastRecordIsRefusedWithItsOffsetAndRepairSalvagesTheRest) {
  const std::vector<std::size_t> fields = {kRecordLengthField + 7, 40};  // a length, a payload byte
  for (const std::size_t field : fields) {
    TempDir dir;
    {
      auto store = Store::create(dir.path, sample_group());
      for (int k = 0; k < 4; ++k)
        ASSERT_TRUE(store->put_events({event("u" + std::to_string(k), "x", k)}).ok());
    }
    const std::string log = dir.path + "/updates.log";
    std::string bad = read_bytes(log);
    const std::vector<std::size_t> at = record_offsets(bad);
    ASSERT_EQ(at.size(), 4u);
    bad[at[1] + field] ^= 0x10;
    write_bytes(log, bad);
    for (const StoreOptions& options : {StoreOptions{}, read_only()}) {
      try {
        Store::open(dir.path, options);
        FAIL() << "accepted damage in field " << field;
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::ParseError);
        EXPECT_NE(std::string(e.what()).find(log), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("byte " + std::to_string(at[1])), std::string::npos)
            << e.what();
      }
      EXPECT_EQ(read_bytes(log), bad);  // refusing changes nothing
    }
    // repair keeps the damaged file and replays the three intact records.
    const RepairReport report = Store::repair(dir.path);
    EXPECT_EQ(report.records_replayed, 3u);
    EXPECT_FALSE(report.log_replaced);
    ASSERT_TRUE(fs::exists(report.damaged_copy));
    EXPECT_EQ(read_bytes(report.damaged_copy), bad);
    auto store = Store::open(dir.path, read_only());
    store->group()->read([&](const DatasetGroup& g) {
      for (const char* user : {"u0", "u2", "u3"})
        EXPECT_NE(g.user_ids().find(user), kNoIndex) << user;
      EXPECT_EQ(g.user_ids().find("u1"), kNoIndex);
      return 0;
    });
    EXPECT_FALSE(Store::repair(dir.path).changed());  // repaired stays repaired
  }
}

TEST(PersistenceStore, ATornLastRecordIsIgnoredByReadersAndCutOffOnlyByTheWriter) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    ASSERT_TRUE(store->put_events({event("a", "x1", 1)}).ok());
    ASSERT_TRUE(store->put_events({event("b", "x2", 2)}).ok());
  }
  const std::string log = dir.path + "/updates.log";
  const std::string good = read_bytes(log);
  const std::string torn = good.substr(0, good.size() - 5);
  write_bytes(log, torn);
  {
    auto reader = Store::open(dir.path, read_only());
    EXPECT_EQ(reader->group()->read([](const DatasetGroup& g) { return g.user_ids().find("b"); }),
              kNoIndex);
    EXPECT_THROW(reader->put_events({event("c", "x3", 3)}), Error);  // a reader writes nothing
  }
  EXPECT_EQ(read_bytes(log), torn);
  EXPECT_FALSE(fs::exists(dir.path + "/lock.tmp"));
  auto writer = Store::open(dir.path);
  EXPECT_EQ(read_bytes(log), good.substr(0, record_offsets(good)[1]));  // cut to whole records
  ASSERT_TRUE(writer->put_events({event("c", "x3", 3)}).ok());
}

TEST(PersistenceStore, AForeignMissingOrShortLogIsRefusedAndRepairStartsAfresh) {
  TempDir a, b;
  {
    auto one = Store::create(a.path, sample_group());
    ASSERT_TRUE(one->put_events({event("a", "x1", 1)}).ok());
    auto two = Store::create(b.path, sample_group());
  }
  const std::string log = b.path + "/updates.log";
  // Another group's log.
  write_bytes(log, read_bytes(a.path + "/updates.log"));
  expect_refused([&] { Store::open(b.path); }, log);
  RepairReport r = Store::repair(b.path);
  EXPECT_TRUE(r.log_replaced);
  EXPECT_EQ(r.records_replayed, 0u);
  EXPECT_NO_THROW(Store::open(b.path));
  // A missing log.
  fs::remove(log);
  expect_refused([&] { Store::open(b.path, read_only()); }, log);
  EXPECT_FALSE(fs::exists(log));  // a reader creates nothing
  EXPECT_TRUE(Store::repair(b.path).log_replaced);
  EXPECT_NO_THROW(Store::open(b.path));
  // A log older than the snapshot: records the snapshot says were logged are missing from it.
  std::string old_log;
  {
    auto store = Store::open(b.path);
    ASSERT_TRUE(store->put_events({event("c", "x3", 3)}).ok());
    old_log = read_bytes(log);
    store->checkpoint();
    ASSERT_TRUE(store->put_events({event("d", "x4", 4)}).ok());
  }
  write_bytes(log, old_log.substr(0, kLogHeader));  // the log as it was before record 1
  expect_refused([&] { Store::open(b.path); }, log);
}

TEST(PersistenceStore, OneWriterAtATimeAndTheBusyErrorNamesTheHolder) {
  TempDir dir;
  auto writer = Store::create(dir.path, sample_group());
  StoreOptions impatient;
  impatient.lock_wait = std::chrono::milliseconds(0);
  try {
    Store::open(dir.path, impatient);
    FAIL() << "two writers";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Busy);
    EXPECT_NE(std::string(e.what()).find("held by pid " + std::to_string(::getpid())),
              std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(Store::open(dir.path, read_only()));  // readers never wait
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    writer.reset();
  });
  StoreOptions patient;
  patient.lock_wait = std::chrono::seconds(10);
  EXPECT_NO_THROW(Store::open(dir.path, patient));
  release.join();
}

TEST(PersistenceStore, ConcurrentPutsShareSyncsAndEveryAcknowledgedEventIsKept) {
  TempDir dir;
  constexpr int kThreads = 8, kBatches = 20, kBatch = 25;
  {
    auto store = Store::create(dir.path, sample_group());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int b = 0; b < kBatches; ++b) {
          std::vector<EventRecord> batch;
          for (int k = 0; k < kBatch; ++k) {
            batch.push_back(
                event("t" + std::to_string(t), "i" + std::to_string(b * kBatch + k), b));
          }
          EXPECT_EQ(store->put_events(batch).accepted, static_cast<std::size_t>(kBatch));
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  auto store = Store::open(dir.path, read_only());
  store->group()->read([&](const DatasetGroup& g) {
    for (int t = 0; t < kThreads; ++t) {
      const Index user = g.user_ids().find("t" + std::to_string(t));
      EXPECT_EQ(g.interaction_rows_of(user).size(), static_cast<std::size_t>(kBatches * kBatch));
    }
    return 0;
  });
}

TEST(PersistenceStore, AReaderOpeningDuringCheckpointsAlwaysSeesAWholeState) {
  TempDir dir;
  auto writer = Store::create(dir.path, sample_group());
  std::atomic<bool> done{false};
  std::atomic<int> opened{0};
  std::thread reader([&] {
    std::size_t last = 0;
    while (!done) {
      auto r = Store::open(dir.path, read_only());
      const std::size_t rows =
          r->group()->read([](const DatasetGroup& g) { return g.interactions().size(); });
      EXPECT_GE(rows, last);  // whole states only, never going back
      last = rows;
      ++opened;
    }
  });
  for (int k = 0; k < 30 || opened < 5; ++k) {
    ASSERT_TRUE(writer->put_events({event("w", "x" + std::to_string(k), k)}).ok());
    if (k % 3 == 0) writer->checkpoint();
  }
  done = true;
  reader.join();
}

TEST(PersistenceStore, ARetriedEventIdIsStoredOnceAcrossReopening) {
  TempDir dir;
  EventRecord e = event("a", "x1", 1);
  e.event_id = "evt-1";
  {
    auto store = Store::create(dir.path, sample_group());
    PutReport first = store->put_events({e, e});
    EXPECT_EQ(first.accepted, 2u);
    EXPECT_EQ(first.duplicates, 1u);
  }
  for (bool checkpoint : {false, true}) {
    auto store = Store::open(dir.path);
    const std::size_t rows =
        store->group()->read([](const DatasetGroup& g) { return g.interactions().size(); });
    PutReport retry = store->put_events({e});
    EXPECT_EQ(retry.accepted, 1u);
    EXPECT_EQ(retry.duplicates, 1u);
    EXPECT_EQ(store->group()->read([](const DatasetGroup& g) { return g.interactions().size(); }),
              rows);
    if (checkpoint) store->checkpoint();
  }
}

TEST(PersistenceStore, DeletingLeavesNoByteOfTheIdsInAnyFile) {
  TempDir dir;
  auto store = Store::create(dir.path, sample_group());
  ASSERT_TRUE(store->put_events({event("user-0001", "item-0002", 5)}).ok());
  Solution solution({"up", "user-personalization", R"({"factors": 8, "iterations": 2})", {}});
  TrainOptions options;
  options.compute_metrics = false;
  const SolutionVersion v =
      store->group()->read([&](const DatasetGroup& g) { return solution.train(g, options); });
  store->save_version(v);
  store->save_version(v);
  const Index user =
      store->group()->read([](const DatasetGroup& g) { return g.user_ids().find("user-0001"); });
  const auto als = std::dynamic_pointer_cast<const AlsModel>(v.model());
  ASSERT_TRUE(als);
  const std::string factors(reinterpret_cast<const char*>(als->user_factors().row(user).data()),
                            8 * sizeof(float));
  auto everything = [&] {
    std::string all;
    for (const auto& entry : fs::recursive_directory_iterator(dir.path)) {
      if (entry.is_regular_file()) all += read_bytes(entry.path().string());
    }
    return all;
  };
  ASSERT_NE(everything().find("user-0001"), std::string::npos);
  ASSERT_NE(everything().find(factors), std::string::npos);
  const DeleteReport users = store->delete_users({"user-0001", "nobody"});
  EXPECT_EQ(users.deleted, 1u);
  EXPECT_EQ(users.unknown, 1u);
  const DeleteReport items = store->delete_items({"item-0002"});
  EXPECT_EQ(items.deleted, 1u);
  const std::string all = everything();
  for (const std::string& gone : {std::string("user-0001"), std::string("item-0002"), factors}) {
    EXPECT_EQ(all.find(gone), std::string::npos);
  }
  // Reopened, the deletion holds.
  store.reset();
  auto reopened = Store::open(dir.path, read_only());
  EXPECT_EQ(
      reopened->group()->read([](const DatasetGroup& g) { return g.user_ids().find("user-0001"); }),
      kNoIndex);
}

// A model that cannot forget (Model::without's default), of a recipe registered here.
class Unforgetting : public Model {
 public:
  explicit Unforgetting(Index items) : items_(items) {}
  const std::string& recipe() const override { return name_; }
  Index num_items() const override { return items_; }
  Index num_users() const override { return 0; }
  bool personalized() const override { return false; }
  void score_all(const UserQuery&, std::vector<float>& s) const override { s.assign(items_, 1); }
  void save(ModelArchive& archive) const override { archive.put_integers("items", {items_}); }

 private:
  std::string name_ = "unforgetting";
  Index items_;
};

TEST(PersistenceStore, ADeletionAKeptVersionCannotFollowIsRefusedChangingNothing) {
  class Recipe : public tailor::Recipe {
   public:
    const std::string& name() const override { return name_; }
    std::string params_json() const override { return "{}"; }
    std::unique_ptr<Model> train(const TrainingData& d, const TrainContext&) const override {
      return std::make_unique<Unforgetting>(d.num_items);
    }

   private:
    std::string name_ = "unforgetting";
  };
  RecipeRegistry::add(
      "unforgetting", [](std::string_view) { return std::make_unique<Recipe>(); },
      [](const ModelArchive& a) {
        return std::make_unique<Unforgetting>(static_cast<Index>(a.integers("items").at(0)));
      });
  TempDir dir;
  auto store = Store::create(dir.path, sample_group());
  ASSERT_TRUE(store->put_events({event("user-0001", "item-0002", 5)}).ok());
  Solution solution({"keeps", "unforgetting", "{}", {}});
  TrainOptions options;
  options.compute_metrics = false;
  store->save_version(
      store->group()->read([&](const DatasetGroup& g) { return solution.train(g, options); }));
  try {
    store->delete_users({"user-0001"});
    ADD_FAILURE() << "the deletion went ahead";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("nothing changed"), std::string::npos) << e.what();
  }
  auto has_user = [](const Store& s) {
    return s.group()->read([](const DatasetGroup& g) { return g.user_ids().find("user-0001"); }) !=
           kNoIndex;
  };
  EXPECT_TRUE(has_user(*store)) << "in memory";
  store.reset();
  EXPECT_TRUE(has_user(*Store::open(dir.path, read_only()))) << "on disk";
}

TEST(PersistenceStore, AReadOnlyStoreChangesNothingAndALongLogIsCheckpointedByTheNextWriter) {
  TempDir dir;
  {
    auto store = Store::create(dir.path, sample_group());
    ASSERT_TRUE(store->put_events({event("a", "x1", 1)}).ok());
  }
  const std::string log = dir.path + "/updates.log";
  const std::string before = read_bytes(log);
  {
    auto reader = Store::open(dir.path, read_only());
    const std::string state = state_of(*reader);
    EXPECT_THROW(reader->put_events({event("b", "x2", 2)}), Error);
    EXPECT_THROW(
        reader->group()->import_csv_text(DatasetKind::Interactions,
                                         "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nb,x2,2,read\n",
                                         [] {
                                           ImportOptions o;
                                           o.mode = ImportMode::Incremental;
                                           return o;
                                         }()),
        Error);
    EXPECT_THROW(reader->group()->delete_users({"a"}), Error);
    EXPECT_EQ(state_of(*reader), state);  // refused before anything was applied
  }
  EXPECT_EQ(read_bytes(log), before);
  StoreOptions small;
  small.checkpoint_log_bytes = before.size() - 1;
  auto writer = Store::open(dir.path, small);
  EXPECT_EQ(read_bytes(log).size(), kLogHeader);  // the record went into a new snapshot
  EXPECT_NE(writer->group()->read([](const DatasetGroup& g) { return g.user_ids().find("a"); }),
            kNoIndex);
}

// A group whose snapshot spans several of the writer's 1 MiB buffers.
DatasetGroup large_group() {
  DatasetGroup g = sample_group();
  std::string csv = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  for (int r = 0; r < 60000; ++r) {
    csv += "user" + std::to_string(r % 997) + ",item" + std::to_string(r % 313) + "," +
           std::to_string(1600000000 + r) + "," + (r % 3 ? "read" : "buy") + "\n";
  }
  ImportOptions incremental;
  incremental.mode = ImportMode::Incremental;
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Interactions, csv, incremental).applied);
  return g;
}

TEST(PersistenceFiles, AStreamedSnapshotHoldsTheBytesOfTheFramedPayload) {
  TempDir dir;
  fs::create_directories(dir.path);
  const std::string path = dir.path + "/group.snapshot";
  for (const DatasetGroup& g : {sample_group(), large_group()}) {
    const detail::SnapshotMeta meta{42, "group-identity"};
    detail::write_group_snapshot(path, g, meta);
    const std::string expected =
        detail::frame(detail::kKindSnapshot, detail::serialize_group(g, meta));
    EXPECT_EQ(read_bytes(path), expected);
    detail::SnapshotMeta back;
    const DatasetGroup loaded = detail::deserialize_group(
        detail::unframe(read_bytes(path), detail::kKindSnapshot, path), back, path);
    EXPECT_EQ(fingerprint(loaded), fingerprint(g));
    EXPECT_EQ(back.last_sequence, 42u);
    EXPECT_EQ(back.group_id, "group-identity");
  }
  EXPECT_GT(fs::file_size(path), std::uintmax_t{2} << 20);
}

TEST(PersistenceFiles, StreamedPayloadsOfEverySizeAroundTheBufferAreFramedAndChecksummed) {
  TempDir dir;
  fs::create_directories(dir.path);
  const std::string path = dir.path + "/file";
  const std::size_t buffer = std::size_t{1} << 20;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8},
                           std::size_t{13}, buffer - detail::kHeaderSize - 1,
                           buffer - detail::kHeaderSize, buffer - detail::kHeaderSize + 1, buffer,
                           2 * buffer - detail::kHeaderSize, 3 * buffer + 5}) {
    std::string payload(size, '\0');
    for (std::size_t k = 0; k < size; ++k) payload[k] = static_cast<char>(k * 131 + k / 7);
    // Written in uneven pieces and single characters, as an archive does; at once; and at once
    // after a few bytes.
    for (int mode = 0; mode < 3; ++mode) {
      detail::write_framed_atomic(path, detail::kKindCatalog, [&](std::streambuf& out) {
        std::size_t k = 0;
        if (mode == 2)
          k = static_cast<std::size_t>(
              out.sputn(payload.data(), std::min<std::streamsize>(3, size)));
        if (mode > 0) {
          out.sputn(payload.data() + k, static_cast<std::streamsize>(size - k));
          return;
        }
        for (std::size_t piece = 1; k < size; piece = piece * 3 + 1) {
          if (piece % 2) {
            out.sputc(payload[k++]);
            continue;
          }
          const std::size_t n = std::min(piece, size - k);
          out.sputn(payload.data() + k, static_cast<std::streamsize>(n));
          k += n;
        }
      });
      const std::string bytes = read_bytes(path);
      EXPECT_EQ(bytes, detail::frame(detail::kKindCatalog, payload))
          << size << " bytes, mode " << mode;
      EXPECT_EQ(detail::unframe(bytes, detail::kKindCatalog, path), payload);
    }
  }
}

TEST(PersistenceFiles, AFailedOrInconsistentStreamedWriteLeavesTheOldFile) {
  TempDir dir;
  fs::create_directories(dir.path);
  const std::string path = dir.path + "/group.snapshot";
  const DatasetGroup g = large_group();
  detail::write_group_snapshot(path, sample_group(), {1, "old"});
  const std::string before = read_bytes(path);
  // The disk fills in the first buffer, midway through the second, in the last (the snapshot is
  // over 2 MiB) and at its checksum.
  const std::uint64_t size =
      detail::kHeaderSize + detail::serialize_group(g, {2, "new"}).size() + 8;
  for (std::uint64_t room : {std::uint64_t{100}, std::uint64_t{3} << 19, size - 1000, size - 4}) {
    detail::fail_writes_after(room);
    try {
      detail::write_group_snapshot(path, g, {2, "new"});
      ADD_FAILURE() << "a full disk after " << room << " bytes went unnoticed";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::Io) << e.what();
    }
    detail::fail_writes_after(0);
    EXPECT_EQ(read_bytes(path), before);
    EXPECT_FALSE(fs::exists(path + ".tmp"));
  }
  // A payload that fails after several buffers were handed to the writer.
  const std::string mib(std::size_t{1} << 20, 'm');
  EXPECT_THROW(detail::write_framed_atomic(path, detail::kKindSnapshot,
                                           [&](std::streambuf& out) {
                                             for (int k = 0; k < 5; ++k)
                                               out.sputn(mib.data(), 1 << 20);
                                             throw std::runtime_error("payload failed");
                                           }),
               std::runtime_error);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  // A payload that writes different bytes the second time is refused, not framed wrongly.
  int calls = 0;
  EXPECT_THROW(detail::write_framed_atomic(
                   path, detail::kKindSnapshot,
                   [&](std::streambuf& out) { out.sputn("abcdef", ++calls == 1 ? 6 : 5); }),
               Error);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST(PersistenceStore, ACheckpointKeepsALogThatIsAlreadyTheEmptyLogItWouldStart) {
  TempDir dir;
  Store::create(dir.path, sample_group());
  const std::string log = dir.path + "/updates.log";
  const std::string empty = read_bytes(log);
  ASSERT_EQ(empty.size(), kLogHeader);
  const ino_t first = inode_of(log);
  std::string imported;
  {
    // A bulk import is not logged: the snapshot changes, the empty log stays as it was.
    auto store = Store::open(dir.path);
    ImportOptions incremental;
    incremental.mode = ImportMode::Incremental;
    ASSERT_TRUE(store->group()
                    ->import_csv_text(DatasetKind::Interactions,
                                      "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nnew,x1,5,read\n",
                                      incremental)
                    .applied);
    imported = state_of(*store);
    EXPECT_EQ(read_bytes(log), empty);
    EXPECT_EQ(inode_of(log), first);
    // A logged put, then a checkpoint: a new empty log, after the put's sequence.
    ASSERT_TRUE(store->put_events({event("a", "x1", 1)}).ok());
    EXPECT_GT(read_bytes(log).size(), kLogHeader);
    store->checkpoint();
    EXPECT_EQ(read_bytes(log).size(), kLogHeader);
    EXPECT_NE(read_bytes(log), empty);
    EXPECT_NE(inode_of(log), first);
    imported = state_of(*store);
  }
  auto reopened = Store::open(dir.path);
  EXPECT_EQ(state_of(*reopened), imported);
  // The kept log is the one a checkpoint starts: another checkpoint keeps it too.
  const std::string kept = read_bytes(log);
  const ino_t inode = inode_of(log);
  reopened->checkpoint();
  EXPECT_EQ(read_bytes(log), kept);
  EXPECT_EQ(inode_of(log), inode);
  ASSERT_TRUE(reopened->put_events({event("b", "x2", 2)}).ok());
  const std::string after_put = state_of(*reopened);
  reopened.reset();
  EXPECT_EQ(state_of(*Store::open(dir.path)), after_put);
}

TEST(PersistenceStore, AnEmptyLogWithATornRecordIsCutBeforeACheckpointKeepsIt) {
  TempDir dir;
  const std::string log = dir.path + "/updates.log";
  {
    auto store = Store::create(dir.path, sample_group());
    ASSERT_TRUE(store->put_events({event("a", "x1", 1)}).ok());
  }
  // A put killed in the middle of its record: the log holds the first bytes of record 1 only.
  const std::string with_record = read_bytes(log);
  ASSERT_GT(with_record.size(), kLogHeader + 5);
  write_bytes(log, with_record.substr(0, with_record.size() - 5));
  std::string imported;
  {
    auto store = Store::open(dir.path);
    EXPECT_EQ(read_bytes(log).size(), kLogHeader);  // cut to the empty log
    ImportOptions incremental;
    incremental.mode = ImportMode::Incremental;
    ASSERT_TRUE(store->group()
                    ->import_csv_text(DatasetKind::Interactions,
                                      "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nn,x2,5,read\n",
                                      incremental)
                    .applied);
    EXPECT_EQ(read_bytes(log).size(), kLogHeader);
    imported = state_of(*store);
  }
  {
    auto store = Store::open(dir.path);
    EXPECT_EQ(state_of(*store), imported);
    EXPECT_EQ(store->group()->read([](const DatasetGroup& g) { return g.user_ids().find("a"); }),
              kNoIndex);
    ASSERT_TRUE(store->put_events({event("b", "x3", 3)}).ok());
    imported = state_of(*store);
  }
  auto store = Store::open(dir.path);
  EXPECT_EQ(state_of(*store), imported);
  EXPECT_NE(store->group()->read([](const DatasetGroup& g) { return g.user_ids().find("b"); }),
            kNoIndex);
  // Opened with a record to replay, the log is not the empty one: an import's checkpoint starts a
  // new log after that record.
  ImportOptions incremental;
  incremental.mode = ImportMode::Incremental;
  ASSERT_TRUE(store->group()
                  ->import_csv_text(DatasetKind::Interactions,
                                    "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nm,x4,6,read\n",
                                    incremental)
                  .applied);
  EXPECT_EQ(read_bytes(log).size(), kLogHeader);
  imported = state_of(*store);
  store.reset();
  EXPECT_EQ(state_of(*Store::open(dir.path)), imported);
}

}  // namespace
}  // namespace tailor
