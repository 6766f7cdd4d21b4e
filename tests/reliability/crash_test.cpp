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
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "the child stopped by itself with status " << WEXITSTATUS(status);
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

}  // namespace
}  // namespace tailor::reliability
