// SPDX-License-Identifier: MIT
// Several processes on one group: 20 writers at once, readers looping while writers append, and
// the writer lock (a second writer waits, then fails with status 6 naming the holder).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "reliability/support.hpp"
#include "tailor/tailor.hpp"

namespace tailor::reliability {
namespace {

// Writes `count` events of writer `w` (users, items and eventIds of their own) to a file.
std::string write_events(const TempDir& dir, int w, int count) {
  const std::string path = dir / ("events-" + std::to_string(w) + ".jsonl");
  std::string text;
  for (int k = 0; k < count; ++k) {
    text += event_line("w" + std::to_string(w) + "-u" + std::to_string(k % 40),
                       "w" + std::to_string(w) + "-i" + std::to_string(k % 70),
                       "w" + std::to_string(w) + "-e" + std::to_string(k), 1700000000 + k);
  }
  write_bytes(path, text);
  return path;
}

TEST(ReliabilityProcesses, TwentyPutEventsProcessesAtOnceKeepAllTwentyThousandEvents) {
  TempDir dir("twenty");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  std::vector<std::string> inputs;
  for (int w = 0; w < 20; ++w) inputs.push_back(write_events(dir, w, 1000));

  std::vector<Process> writers;
  for (int w = 0; w < 20; ++w) {
    writers.push_back(
        start_cli({"put-events", group, "--input", inputs[w], "--json", "--wait", "120"},
                  dir / ("writer-" + std::to_string(w))));
  }
  for (int w = 0; w < 20; ++w) {
    const Result r = finish(writers[w]);
    ASSERT_EQ(r.status, 0) << "writer " << w << ": " << r.err;
    EXPECT_EQ(json(r.out).find("accepted")->as_int(), 1000) << r.out;
    EXPECT_EQ(json(r.out).find("rejected")->as_int(), 0) << r.out;
  }

  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 20000) << why;
  // Every writer's events, user by user: 20 writers x 40 users x 25 events.
  {
    StoreOptions read_only;
    read_only.access = StoreAccess::ReadOnly;
    auto store = Store::open(group, read_only);
    store->group()->read([](const DatasetGroup& g) {
      EXPECT_EQ(g.user_ids().size(), 800u);
      EXPECT_EQ(g.item_ids().size(), 1400u);
      for (int w = 0; w < 20; ++w) {
        const Index u = g.user_ids().find("w" + std::to_string(w) + "-u7");
        ASSERT_NE(u, kNoIndex);
        EXPECT_EQ(g.interaction_rows_of(u).size(), 25u);
      }
    });
  }
  // Every command still works on the group: a writer, training, serving.
  Result again = cli(dir.path, {"put-events", group, "--input", inputs[3], "--json"});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(json(again.out).find("accepted")->as_int(), 1000);  // acknowledged, stored once
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 20000) << why;
  Result trained = cli(dir.path, {"train", group, "--recipe", "popularity-count", "--no-metrics"});
  ASSERT_EQ(trained.status, 0) << trained.err;
  Result rec = cli(dir.path, {"recommend", group, "--user", "w5-u1", "-n", "5", "--json"});
  ASSERT_EQ(rec.status, 0) << rec.err;
  EXPECT_EQ(json(rec.out).find("itemList")->items().size(), 5u);
  Result imported =
      cli(dir.path, {"import", group, "--dataset", "items", "--csv", data_dir() + "items.csv"});
  EXPECT_EQ(imported.status, 0) << imported.err;
}

TEST(ReliabilityProcesses, ReadersLoopingDuringWritesNeverFailShrinkTheLogOrLoseEvents) {
  TempDir dir("readers");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  // A solution to serve, so that readers can recommend as well as count.
  ASSERT_EQ(cli(dir.path, {"put-events", group, "--input", write_events(dir, 99, 50)}).status, 0);
  ASSERT_EQ(cli(dir.path, {"train", group, "--recipe", "popularity-count", "--no-metrics"}).status,
            0);

  constexpr int kWriters = 24, kEventsPerWriter = 250;
  std::vector<std::string> inputs;
  for (int w = 0; w < kWriters; ++w) inputs.push_back(write_events(dir, w, kEventsPerWriter));
  const std::string log = group + "/updates.log";

  std::atomic<bool> writing{true};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(failures_mutex);
    failures.push_back(what);
  };
  std::atomic<long> reads{0};
  // Readers: info and recommend in a loop; each one's row counts only grow.
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      long last = 0;
      for (int k = 0; writing || k < 2; ++k) {
        std::string why;
        const long rows = interaction_rows(cli(dir.path, {"info", group, "--json"}), &why);
        if (rows < 0) fail("reader " + std::to_string(r) + ": info failed: " + why);
        if (rows < last)
          fail("reader " + std::to_string(r) + ": rows went from " + std::to_string(last) + " to " +
               std::to_string(rows));
        last = std::max(last, rows);
        const Result rec =
            cli(dir.path, {"recommend", group, "--user", "w1-u1", "-n", "3", "--json"});
        if (rec.status != 0) fail("reader " + std::to_string(r) + ": recommend failed: " + rec.err);
        reads += 2;
      }
    });
  }
  // The log's size, sampled: no checkpoint runs, so it may only grow.
  std::thread sampler([&] {
    std::uintmax_t last = 0;
    while (writing) {
      std::error_code ec;
      const std::uintmax_t size = fs::file_size(log, ec);
      if (!ec) {
        if (size < last)
          fail("the log shrank from " + std::to_string(last) + " to " + std::to_string(size) +
               " bytes");
        last = std::max(last, size);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // Writers: four at a time, each waiting for the lock.
  int acknowledged = 50;
  for (int w = 0; w < kWriters; w += 4) {
    std::vector<Process> batch;
    for (int k = w; k < w + 4; ++k) {
      batch.push_back(
          start_cli({"put-events", group, "--input", inputs[k], "--json", "--wait", "120"},
                    dir / ("writer-" + std::to_string(k))));
    }
    for (const Process& p : batch) {
      const Result r = finish(p);
      EXPECT_EQ(r.status, 0) << r.err;
      if (r.status == 0) acknowledged += static_cast<int>(json(r.out).find("accepted")->as_int());
    }
  }
  writing = false;
  for (std::thread& t : readers) t.join();
  sampler.join();
  for (const std::string& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(reads.load(), 4);
  EXPECT_EQ(acknowledged, 50 + kWriters * kEventsPerWriter);
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), acknowledged) << why;
}

TEST(ReliabilityProcesses, ReadersNeverFailWhileAWriterCheckpointsOverAndOver) {
  TempDir dir("checkpoints");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  int acks[2];
  ASSERT_EQ(::pipe(acks), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The writer: batches of 10 events, a checkpoint (new snapshot, new log) after every one;
    // each batch acknowledged after the checkpoint.
    ::close(acks[0]);
    try {
      auto store = Store::open(group);
      for (int b = 0; b < 150; ++b) {
        std::vector<EventRecord> events;
        for (int j = 0; j < 10; ++j) {
          EventRecord e;
          e.user_id = "cp-u" + std::to_string(j);
          e.session_id = "s";
          e.item_id = "cp-i" + std::to_string(b);
          e.event_type = "read";
          e.sent_at = 1700000000 + b;
          events.push_back(e);
        }
        if (!store->put_events(events).ok()) ::_exit(3);
        store->checkpoint();
        if (::write(acks[1], &b, sizeof b) != sizeof b) ::_exit(4);
      }
    } catch (...) {
      ::_exit(5);
    }
    ::_exit(0);
  }
  ::close(acks[1]);
  int b = 0;
  ASSERT_EQ(::read(acks[0], &b, sizeof b), static_cast<ssize_t>(sizeof b));
  std::atomic<bool> writing{true};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      long last = 0;
      for (int k = 0; writing || k < 3; ++k) {  // at least three reads, however fast the writer
        std::string why;
        long rows = -1;
        if (r == 0) {
          rows = interaction_rows(cli(dir.path, {"info", group, "--json"}), &why);
        } else {
          try {  // the C++ API, read-only, in this process
            StoreOptions read_only;
            read_only.access = StoreAccess::ReadOnly;
            rows = static_cast<long>(
                Store::open(group, read_only)->group()->read([](const DatasetGroup& g) {
                  return g.interactions().size();
                }));
          } catch (const std::exception& e) {
            why = e.what();
          }
        }
        std::lock_guard<std::mutex> lock(failures_mutex);
        if (rows < 0)
          failures.push_back("reader " + std::to_string(r) + " failed: " + why);
        else if (rows < last)
          failures.push_back("reader " + std::to_string(r) + ": rows went down");
        last = std::max(last, rows);
        ++reads;
      }
    });
  }
  int last_ack = b;
  while (::read(acks[0], &b, sizeof b) == static_cast<ssize_t>(sizeof b)) last_ack = b;
  ::close(acks[0]);
  writing = false;
  for (std::thread& t : readers) t.join();
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(last_ack, 149);
  for (const std::string& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(reads.load(), 2);
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 1500) << why;
}

// A writer in a child process holding the group (a Store opened read-write) until told to close.
struct Holder {
  pid_t pid = -1;
  int release = -1;  // write a byte to let go
};

Holder hold(const std::string& group) {
  int ready[2], release[2];
  if (::pipe(ready) != 0 || ::pipe(release) != 0) throw std::runtime_error("pipe");
  Holder h;
  h.pid = ::fork();
  if (h.pid == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    try {
      auto store = Store::open(group);
      char c = 1;
      if (::write(ready[1], &c, 1) != 1) ::_exit(3);
      if (::read(release[0], &c, 1) < 0) ::_exit(4);
    } catch (...) {
      ::_exit(5);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char c = 0;
  if (::read(ready[0], &c, 1) != 1) throw std::runtime_error("the holder did not open the group");
  ::close(ready[0]);
  h.release = release[1];
  return h;
}

int let_go(Holder& h) {
  char c = 1;
  if (::write(h.release, &c, 1) != 1) return -1;
  ::close(h.release);
  int status = 0;
  ::waitpid(h.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ReliabilityProcesses, ASecondWriterFailsBusyNamingTheHolderThenSucceedsOnceItLetsGo) {
  TempDir dir("busy");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  const std::string events = write_events(dir, 1, 10);
  ASSERT_EQ(cli(dir.path, {"put-events", group, "--input", events}).status, 0);
  ASSERT_EQ(cli(dir.path, {"train", group, "--recipe", "popularity-count", "--no-metrics"}).status,
            0);
  const std::string log_before = read_bytes(group + "/updates.log");
  const std::string snapshot_before = read_bytes(group + "/group.snapshot");

  Holder holder = hold(group);
  const std::string busy =
      "group " + group + " is busy (held by pid " + std::to_string(holder.pid) + ")";
  // Every command that writes fails at once with --wait 0, naming the holder, changing nothing.
  const std::vector<std::vector<std::string>> writers = {
      {"put-events", group, "--input", write_events(dir, 2, 10), "--wait", "0"},
      {"put-users", group, "--input", events, "--wait", "0"},
      {"import", group, "--dataset", "items", "--csv", data_dir() + "items.csv", "--wait", "0"},
      {"train", group, "--recipe", "popularity-count", "--no-metrics", "--wait", "0"},
      {"delete-users", group, "--ids", "w1-u1", "--wait", "0"},
      {"repair", group, "--wait", "0"},
      {"activate", group, "--solution", "popularity-count", "--version", "000001", "--wait", "0"}};
  for (const auto& args : writers) {
    const Result r = cli(dir.path, args);
    EXPECT_EQ(r.status, 6) << args[0] << ": " << r.err;
    EXPECT_TRUE(contains(r.err, busy)) << args[0] << ": " << r.err;
  }
  // The C++ API likewise.
  StoreOptions no_wait;
  no_wait.lock_wait = std::chrono::milliseconds(0);
  try {
    Store::open(group, no_wait);
    ADD_FAILURE() << "a second writer opened the group";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Busy);
    EXPECT_TRUE(contains(e.what(), busy)) << e.what();
  }
  // Readers go on beside the writer.
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 10) << why;
  EXPECT_EQ(cli(dir.path, {"recommend", group, "--user", "w1-u1", "-n", "3"}).status, 0);
  EXPECT_EQ(read_bytes(group + "/updates.log"), log_before);
  EXPECT_EQ(read_bytes(group + "/group.snapshot"), snapshot_before);

  // A writer that waits long enough gets the group once the holder lets go (not before).
  Process waiting = start_cli(
      {"put-events", group, "--input", write_events(dir, 3, 10), "--json", "--wait", "120"},
      dir / "waiting");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int status = 0;
  EXPECT_EQ(::waitpid(waiting.pid, &status, WNOHANG), 0)
      << "the waiting writer finished while the group was held";
  EXPECT_EQ(let_go(holder), 0);
  const Result r = finish(waiting);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json(r.out).find("accepted")->as_int(), 10);
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 20) << why;
}

TEST(ReliabilityProcesses, TrainingHoldsNoWriterLockUntilItSavesItsVersion) {
  TempDir dir("train-lock");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  ASSERT_EQ(cli(dir.path, {"put-events", group, "--input", write_events(dir, 1, 200)}).status, 0);
  // The training's parameters come through a FIFO: until they are written, train is stuck
  // between opening the group and training, which can take minutes on real data.
  const std::string params = dir / "params";
  ASSERT_EQ(::mkfifo(params.c_str(), 0600), 0);
  Process train = start_cli({"train", group, "--recipe", "popularity-count", "--params",
                             "@" + params, "--no-metrics", "--json"},
                            dir / "train");
  // Meanwhile writers are not kept waiting: event tracking goes on during training.
  const Result put =
      cli(dir.path, {"put-events", group, "--input", write_events(dir, 2, 10), "--wait", "0"});
  EXPECT_EQ(put.status, 0) << put.err;
  int status = 0;
  ASSERT_EQ(::waitpid(train.pid, &status, WNOHANG), 0) << "train ended before its parameters came";
  write_bytes(params, "{}");
  const Result trained = finish(train);
  ASSERT_EQ(trained.status, 0) << trained.err;
  EXPECT_EQ(json(trained.out).find("version")->as_string(), "000001") << trained.out;
  std::string why;
  EXPECT_EQ(interaction_rows(cli(dir.path, {"info", group, "--json"}), &why), 210) << why;
  EXPECT_EQ(cli(dir.path, {"recommend", group, "--user", "w2-u1", "-n", "3"}).status, 0);
}

}  // namespace
}  // namespace tailor::reliability
