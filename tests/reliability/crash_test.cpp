// SPDX-License-Identifier: MIT
// SIGKILL during writes: a child process puts batches of events from several threads (group
// commit, SyncPolicy::EveryCall) and checkpoints now and then; the parent kills it at random
// moments, round after round on the same group, and every acknowledged batch must be there.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "reliability/support.hpp"
#include "tailor/tailor.hpp"

namespace tailor::reliability {
namespace {

constexpr int kThreads = 3, kBatch = 20;

struct Ack {
  std::int32_t thread;
  std::int32_t batch;
};

// SIGKILL to the child, then its end reaped: it must have been running until the signal.
::testing::AssertionResult killed_while_running(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "the child stopped by itself with status " << WEXITSTATUS(status);
}

std::string user_of(int round, int thread) {
  return "r" + std::to_string(round) + "t" + std::to_string(thread);
}

std::vector<EventRecord> batch_of(int round, int thread, int batch) {
  std::vector<EventRecord> events;
  for (int j = 0; j < kBatch; ++j) {
    EventRecord e;
    e.user_id = user_of(round, thread);
    e.session_id = "s";
    e.item_id = "b" + std::to_string(batch) + "-" + std::to_string(j);
    e.event_type = "read";
    e.event_id = e.user_id + "b" + std::to_string(batch) + "e" + std::to_string(j);
    e.sent_at = 1700000000 + batch;
    events.push_back(e);
  }
  return events;
}

// The child: put batches until killed; acknowledge each one after put_events returned.
[[noreturn]] void write_until_killed(const std::string& group, int round, int ack_fd) {
  try {
    StoreOptions options;
    options.sync = SyncPolicy::EveryCall;
    auto store = Store::open(group, options);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int b = 0; b < 5000; ++b) {
          const PutReport r = store->put_events(batch_of(round, t, b));
          if (r.accepted != kBatch || r.rejected != 0) ::_exit(3);
          const Ack ack{t, b};
          if (::write(ack_fd, &ack, sizeof ack) != sizeof ack) ::_exit(4);
          if (t == 0 && b % 15 == 14) store->checkpoint();
        }
      });
    }
    for (std::thread& t : threads) t.join();
  } catch (...) {
    ::_exit(5);
  }
  ::_exit(6);  // never killed: the test's kill came too late
}

// Per user (round and thread), the batches present and how many of each batch's events.
std::map<std::string, std::map<int, int>> stored_batches(Store& store) {
  return store.group()->read([](const DatasetGroup& g) {
    std::map<std::string, std::map<int, int>> out;
    for (Index u = 0; u < g.user_ids().size(); ++u) {
      const std::string user(g.user_ids().name(u));
      for (std::uint32_t row : g.interaction_rows_of(u)) {
        const std::string item(g.item_ids().name(g.interactions().items()[row]));
        out[user][std::stoi(item.substr(1, item.find('-') - 1))] += 1;
      }
    }
    return out;
  });
}

TEST(ReliabilityCrash, SigkillDuringBatchedWritesLosesNothingAcknowledged) {
  TempDir dir("sigkill");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  std::mt19937 rng(20261130);
  std::map<std::string, std::set<int>> acknowledged;  // user -> batches
  for (int round = 0; round < 6; ++round) {
    int acks[2];
    ASSERT_EQ(::pipe(acks), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(acks[0]);
      write_until_killed(group, round, acks[1]);
    }
    ::close(acks[1]);
    // Wait for the first acknowledgement (opening may be slow under sanitizers), then kill at a
    // random moment.
    Ack ack{};
    ASSERT_EQ(::read(acks[0], &ack, sizeof ack), static_cast<ssize_t>(sizeof ack))
        << "round " << round;
    acknowledged[user_of(round, ack.thread)].insert(ack.batch);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 120));
    ASSERT_TRUE(killed_while_running(child));
    while (::read(acks[0], &ack, sizeof ack) == static_cast<ssize_t>(sizeof ack)) {
      acknowledged[user_of(round, ack.thread)].insert(ack.batch);
    }
    ::close(acks[0]);

    // A reader sees every acknowledged batch, each batch whole or not at all.
    StoreOptions read_only;
    read_only.access = StoreAccess::ReadOnly;
    std::unique_ptr<Store> store;
    ASSERT_NO_THROW(store = Store::open(group, read_only)) << "round " << round;
    const auto stored = stored_batches(*store);
    std::size_t acked = 0;
    for (const auto& [user, batches] : acknowledged) {
      for (int b : batches) {
        ++acked;
        const auto u = stored.find(user);
        ASSERT_TRUE(u != stored.end() && u->second.count(b))
            << "round " << round << ": lost " << user << " batch " << b;
      }
    }
    for (const auto& [user, batches] : stored) {
      for (const auto& [b, events] : batches) {
        EXPECT_EQ(events, kBatch) << "round " << round << ": " << user << " batch " << b
                                  << " is partial";
      }
    }
    EXPECT_GT(acked, 0u);
  }
  // The writer's open cuts off any torn record; the group then takes writes again.
  auto store = Store::open(group);
  EXPECT_TRUE(store->put_events(batch_of(99, 0, 0)).ok());
  std::size_t rows =
      store->group()->read([](const DatasetGroup& g) { return g.interactions().size(); });
  std::size_t acked_rows = 0;
  for (const auto& [user, batches] : acknowledged) acked_rows += batches.size() * kBatch;
  EXPECT_GE(rows, acked_rows + kBatch);
}

TEST(ReliabilityCrash, KilledPutEventsProcessesLeaveAGroupThatOpensAndKeepsWhatTheyAcknowledged) {
  TempDir dir("kill-cli");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  std::mt19937 rng(7);
  long acknowledged = 0;
  for (int round = 0; round < 8; ++round) {
    std::string text;
    for (int k = 0; k < 2000; ++k) {
      text += event_line("c" + std::to_string(round) + "-u" + std::to_string(k % 30),
                         "i" + std::to_string(k % 90),
                         "c" + std::to_string(round) + "-e" + std::to_string(k), 1700000000 + k);
    }
    write_bytes(dir / "events.jsonl", text);
    // Two writers race for the group; one of them is killed at a random moment.
    Process doomed =
        start_cli({"put-events", group, "--input", dir / "events.jsonl", "--json"}, dir / "doomed");
    Process survivor =
        start_cli({"put-events", group, "--input", dir / "events.jsonl", "--json", "--wait", "120"},
                  dir / "survivor");
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 80));
    ::kill(doomed.pid, SIGKILL);
    const Result killed = finish(doomed);
    const Result r = finish(survivor);
    ASSERT_EQ(r.status, 0) << "round " << round << ": " << r.err;
    EXPECT_EQ(json(r.out).find("accepted")->as_int(), 2000);
    acknowledged += 2000;  // the same eventIds: stored once whoever wins
    (void)killed;
    std::string why;
    EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), acknowledged)
        << "round " << round << why;
  }
}

// Imports and checkpoints killed at random moments: generation g is a FULL import of rows by
// users "g<g>-u<k>" (sizes spanning several of the snapshot writer's buffers), then a put of a
// batch by user "g<g>-p", then every other time a checkpoint. The import is not logged, so a
// checkpoint after it may keep the empty log; a put after it is.
constexpr int kImported = 0, kPut = 1;

std::size_t generation_rows(int g) { return 20000 + static_cast<std::size_t>(g % 3) * 25000; }

std::string generation_csv(int g) {
  std::string csv = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n";
  const std::string user = "g" + std::to_string(g) + "-u";
  for (std::size_t k = 0; k < generation_rows(g); ++k) {
    csv += user + std::to_string(k % 500) + ",i" + std::to_string(k % 700) + "," +
           std::to_string(1700000000 + k) + ",read," + (k % 2 ? "0.5" : "") + "\n";
  }
  return csv;
}

std::vector<EventRecord> generation_put(int g) {
  std::vector<EventRecord> events = batch_of(0, 0, g);
  for (EventRecord& e : events) {
    e.user_id = "g" + std::to_string(g) + "-p";
    e.event_id = e.user_id + e.event_id;
  }
  return events;
}

[[noreturn]] void import_until_killed(const std::string& group, const std::string& csv, int first,
                                      int ack_fd) {
  try {
    auto store = Store::open(group);
    ImportOptions options;
    options.execution.num_threads = 1;  // no thread pool in a forked child
    for (int g = first; g < first + 1000; ++g) {
      write_bytes(csv, generation_csv(g));
      if (!store->import_csv(DatasetKind::Interactions, csv, options).applied) ::_exit(3);
      Ack ack{kImported, g};
      if (::write(ack_fd, &ack, sizeof ack) != sizeof ack) ::_exit(4);
      if (!store->put_events(generation_put(g)).ok()) ::_exit(3);
      ack = Ack{kPut, g};
      if (::write(ack_fd, &ack, sizeof ack) != sizeof ack) ::_exit(4);
      if (g % 2) store->checkpoint();
    }
  } catch (...) {
    ::_exit(5);
  }
  ::_exit(6);
}

TEST(ReliabilityCrash, SigkillDuringImportsAndCheckpointsLeavesTheLastOrTheNextImportWhole) {
  TempDir dir("sigkill-import");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  std::mt19937 rng(20261201);
  int imported = -1;  // the last acknowledged generation
  bool put = false;   // whether its put was acknowledged
  for (int round = 0; round < 8; ++round) {
    int acks[2];
    ASSERT_EQ(::pipe(acks), 0);
    const int first = round * 1000;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(acks[0]);
      import_until_killed(group, dir / "rows.csv", first, acks[1]);
    }
    ::close(acks[1]);
    Ack ack{};
    ASSERT_EQ(::read(acks[0], &ack, sizeof ack), static_cast<ssize_t>(sizeof ack))
        << "round " << round;
    imported = ack.batch;
    put = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    ASSERT_TRUE(killed_while_running(child));
    while (::read(acks[0], &ack, sizeof ack) == static_cast<ssize_t>(sizeof ack)) {
      if (ack.thread == kImported) {
        imported = ack.batch;
        put = false;
      } else if (ack.batch == imported) {
        put = true;
      }
    }
    ::close(acks[0]);

    // The writer's open (which cuts a torn record off and may checkpoint) finds the last
    // acknowledged generation, or the next one whole, with its put whole or not at all.
    std::unique_ptr<Store> store;
    ASSERT_NO_THROW(store = Store::open(group)) << "round " << round;
    const auto rows = store->group()->read([](const DatasetGroup& g) {
      std::map<std::string, std::size_t> out;  // "g<g>-u" or "g<g>-p" -> rows
      const std::vector<Index>& users = g.interactions().users();
      for (Index u : users) {
        const std::string name(g.user_ids().name(u));
        out[name.substr(0, name.find('-') + 2)] += 1;
      }
      return out;
    });
    std::string seen;
    for (const auto& [prefix, n] : rows) seen += " " + prefix + ":" + std::to_string(n);
    const std::string last = "g" + std::to_string(imported);
    const std::string next = "g" + std::to_string(imported + 1);
    const bool is_last = rows.count(last + "-u") != 0;
    const int generation = is_last ? imported : imported + 1;
    const std::string at = is_last ? last : next;
    ASSERT_TRUE(is_last || rows.count(next + "-u")) << "round " << round << ":" << seen;
    EXPECT_EQ(rows.at(at + "-u"), generation_rows(generation)) << "round " << round << ":" << seen;
    const std::size_t puts = rows.count(at + "-p") ? rows.at(at + "-p") : 0;
    EXPECT_TRUE(puts == 0 || puts == static_cast<std::size_t>(kBatch))
        << "round " << round << ":" << seen;
    if (is_last && put) {
      EXPECT_EQ(puts, static_cast<std::size_t>(kBatch)) << "round " << round;
    }
    EXPECT_EQ(rows.size(), puts ? 2u : 1u) << "round " << round << ":" << seen;
  }
}

}  // namespace
}  // namespace tailor::reliability
