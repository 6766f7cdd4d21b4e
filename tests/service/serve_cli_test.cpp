// SPDX-License-Identifier: MIT
// `tailor serve` as a process: it prints its address, stops cleanly on SIGTERM, keeps every
// acknowledged event through SIGKILL, serves the same state after a restart, and holds the
// group's writer lock against the CLI's writers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/sample.hpp"
#include "common/temp_dir.hpp"
#include "service/http_client.hpp"
#include "tailor/persistence/persistence.hpp"

#ifdef TAILOR_CLI

namespace tailor {
namespace {

namespace fs = std::filesystem;
using test::HttpClient;
using test::Reply;

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("tailor-serve", true) {}
};

// Runs the CLI to the end; returns its exit status.
int tailor_cli(const std::string& args) {
  const std::string command = std::string(TAILOR_CLI) + " " + args + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A group of the sample data with one trained solution, made with the CLI.
std::string make_group(const TempDir& dir) {
  const std::string d = std::string(TAILOR_SOURCE_DIR) + "/data/";
  const std::string group = dir.path + "/g";
  EXPECT_EQ(tailor_cli("create " + group + " --interactions-schema " + d +
                       "interactions_schema.json --items-schema " + d + "items_schema.json"),
            0);
  EXPECT_EQ(
      tailor_cli("import " + group + " --dataset interactions --csv " + d + "interactions.csv"), 0);
  EXPECT_EQ(tailor_cli("import " + group + " --dataset items --csv " + d + "items.csv"), 0);
  EXPECT_EQ(tailor_cli("train " + group + " --recipe popularity-count --no-metrics"), 0);
  return group;
}

// `tailor serve GROUP --port 0 ...` in a child process; its port read from the line it prints.
struct Server {
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::string first_line;

  // `open_files`: when not 0, the child's soft limit on descriptors (as a shell's ulimit -n).
  explicit Server(const std::string& group, const std::vector<std::string>& extra = {},
                  rlim_t open_files = 0) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      rlimit files{};
      if (open_files != 0 && ::getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = open_files;
        ::setrlimit(RLIMIT_NOFILE, &files);
      }
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 2);
      std::vector<std::string> args = {TAILOR_CLI, "serve", group, "--port", "0", "--threads", "2"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') first_line += c;
    ::close(out[0]);
    const auto colon = first_line.rfind(':');
    if (first_line.rfind("listening on http://127.0.0.1:", 0) == 0 && colon != std::string::npos) {
      port = static_cast<std::uint16_t>(std::stoi(first_line.substr(colon + 1)));
    }
  }
  // Sends `signal` and waits; returns the exit status, or 128 + the signal that ended it.
  int stop(int signal) {
    ::kill(pid, signal);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ~Server() {
    if (pid > 0) stop(SIGKILL);
  }
};

TEST(ServeCli, PrintsItsAddressAndExitsZeroOnSigterm) {
  TempDir dir;
  const std::string group = make_group(dir);
  Server server(group);
  ASSERT_NE(server.port, 0) << server.first_line;
  HttpClient c(server.port);
  EXPECT_EQ(c.get("/health").status, 200);
  const Reply r = c.post("/recommendations", R"({"userId":"user-0001","numResults":3})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server.stop(SIGTERM), 0);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(ServeCli, SigintStopsItToo) {
  TempDir dir;
  Server server(make_group(dir));
  ASSERT_NE(server.port, 0) << server.first_line;
  EXPECT_EQ(server.stop(SIGINT), 0);
}

TEST(ServeCli, SigtermDuringARetrainDoesNotWaitForIt) {
  // A retrain may take minutes on a large group, and a supervisor waits 5 seconds after SIGTERM:
  // the process exits without the version in training, which is simply not saved.
  TempDir dir;
  const std::string group = make_group(dir);
  ASSERT_EQ(tailor_cli("train " + group + " --recipe user-personalization --solution slow" +
                       " --params '{\"factors\":128,\"iterations\":60}' --no-metrics"),
            0);
  Server server(group);
  ASSERT_NE(server.port, 0) << server.first_line;
  HttpClient c(server.port);
  const Reply r = c.post("/solutions/slow/versions", "");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(server.stop(SIGTERM), 0);
  StoreOptions o;
  o.access = StoreAccess::ReadOnly;
  EXPECT_EQ(Store::open(group, o)->versions("slow").size(), 1u);
  Server again(group);  // the abandoned training left nothing that stops a restart
  ASSERT_NE(again.port, 0) << again.first_line;
  EXPECT_EQ(HttpClient(again.port)
                .post("/recommendations", R"({"userId":"user-0001","campaignArn":"slow"})")
                .status,
            200);
  EXPECT_EQ(again.stop(SIGTERM), 0);
}

TEST(ServeCli, ALowDescriptorLimitDoesNotCapConnectionsBelowTheirLimit) {
  // Each connection is a descriptor. Under a shell's usual soft limit (1024, here 64) the server
  // ran out of them before its own connection limit (1024): the next clients waited unanswered
  // instead of being served or told 429. It raises the soft limit to the hard one.
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_max != RLIM_INFINITY && files.rlim_max < 256) GTEST_SKIP() << "hard limit";
  TempDir dir;
  Server server(make_group(dir), {}, 64);
  ASSERT_NE(server.port, 0) << server.first_line;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int k = 0; k < 100; ++k) {
    clients.push_back(std::make_unique<HttpClient>(server.port, 5));
    ASSERT_EQ(clients.back()->get("/health").status, 200) << "client " << k;
  }
  clients.clear();
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(ServeCli, EveryAcknowledgedEventSurvivesSigkillAndARestartServesIt) {
  TempDir dir;
  const std::string group = make_group(dir);
  constexpr int kAcknowledged = 200;
  {
    Server server(group);
    ASSERT_NE(server.port, 0) << server.first_line;
    HttpClient c(server.port);
    ASSERT_EQ(
        c.post(
             "/filters",
             R"J({"name":"blogs","filterExpression":"INCLUDE ItemID WHERE Items.CONTENT_TYPE IN (\"blog_post\")"})J")
            .status,
        200);
    for (int k = 0; k < kAcknowledged; ++k) {
      const Reply r = c.post("/events", R"({"sessionId":"s","userId":"kill-)" + std::to_string(k) +
                                            R"(","eventList":[{"eventType":"read",)"
                                            R"("itemId":"item-0001","sentAt":1767314726}]})");
      ASSERT_EQ(r.status, 200) << r.body;
    }
    EXPECT_EQ(server.stop(SIGKILL), 128 + SIGKILL);
  }
  {
    StoreOptions o;
    o.access = StoreAccess::ReadOnly;
    auto store = Store::open(group, o);
    store->group()->read([&](const DatasetGroup& g) {
      for (int k = 0; k < kAcknowledged; ++k) {
        EXPECT_NE(g.user_ids().find("kill-" + std::to_string(k)), kNoIndex) << k;
      }
      return 0;
    });
  }
  Server again(group);  // the lock of the killed process is gone with it
  ASSERT_NE(again.port, 0) << again.first_line;
  HttpClient c(again.port);
  EXPECT_TRUE(c.get("/filters").body.find("\"blogs\"") != std::string::npos);
  const Reply r = c.post("/recommendations", R"({"userId":"kill-7","filterArn":"blogs"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(again.stop(SIGTERM), 0);
}

TEST(ServeCli, ACliWriterIsRefusedWhileTheGroupIsServed) {
  TempDir dir;
  const std::string group = make_group(dir);
  Server server(group);
  ASSERT_NE(server.port, 0) << server.first_line;
  const std::string events = dir.path + "/events.jsonl";
  std::ofstream(events) << R"({"sessionId":"s","userId":"cli","eventType":"read",)"
                        << R"("itemId":"item-0001","sentAt":1767314726})"
                        << "\n";
  EXPECT_EQ(tailor_cli("put-events " + group + " --input " + events + " --wait 0"), 6);  // Busy
  EXPECT_EQ(tailor_cli("recommend " + group + " --user user-0001"), 0);  // readers go on
  EXPECT_EQ(server.stop(SIGTERM), 0);
  EXPECT_EQ(tailor_cli("put-events " + group + " --input " + events + " --wait 0"), 0);
}

TEST(ServeCli, BadOptionsExitTwoWithoutTakingTheLock) {
  TempDir dir;
  const std::string group = make_group(dir);
  EXPECT_EQ(tailor_cli("serve " + group + " --retrain-every 5 parsecs"), 2);
  EXPECT_EQ(tailor_cli("serve " + group + " --retrain-every soon"), 2);
  EXPECT_EQ(tailor_cli("serve " + group + " --retrain-mode SOMETIMES"), 2);
  EXPECT_EQ(tailor_cli("serve " + group + " --port 70000"), 2);
  EXPECT_EQ(tailor_cli("serve " + group + " --max-connections 0"), 2);
  EXPECT_EQ(tailor_cli("serve " + group + " --max-connections-per-client -1"), 2);
  EXPECT_EQ(tailor_cli("serve " + group + " --token-file " + dir.path + "/missing"), 5);
  // A token file must hold one token: empty, or two words, is refused before anything starts.
  std::ofstream(dir.path + "/empty") << "\n";
  EXPECT_EQ(tailor_cli("serve " + group + " --token-file " + dir.path + "/empty"), 2);
  std::ofstream(dir.path + "/two") << "one two\n";
  EXPECT_EQ(tailor_cli("serve " + group + " --token-file " + dir.path + "/two"), 2);
}

}  // namespace
}  // namespace tailor

#endif  // TAILOR_CLI
