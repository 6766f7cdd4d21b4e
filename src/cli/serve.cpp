// SPDX-License-Identifier: MIT
// tailor serve: the group's solutions over HTTP (HttpService) until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "cli/commands.hpp"

namespace tailor::cli {
namespace {

struct ServeArgs {
  std::string host = "127.0.0.1";
  unsigned port = 8080;
  std::string token_file;
  std::string retrain_every, retrain_after_events, retrain_mode = "FULL";
  std::string max_body = "1048576", read_timeout = "10s", idle_timeout = "60s";
  std::string max_connections = "1024", max_connections_per_client = "256";
};

// "90" or "90s", "250ms", "15m", "2h", "1d", as milliseconds.
std::chrono::milliseconds parse_duration(const std::string& option, const std::string& text) {
  const std::size_t split = text.find_first_not_of("0123456789");
  const std::string digits = text.substr(0, split);
  const std::string unit = split == std::string::npos ? "s" : text.substr(split);
  static const std::pair<const char*, long long> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  for (const auto& [name, ms] : kUnits) {
    if (unit == name && !digits.empty() && digits.size() <= 9) {
      return std::chrono::milliseconds(std::stoll(digits) * ms);
    }
  }
  throw bad_option(option, "a duration such as 90s, 15m, 2h or 1d", text);
}

std::string read_token(const std::string& path) {
  std::string token = read_text(path);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    throw Error(ErrorCode::InvalidArgument, "--token-file " + path + " holds no token");
  }
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    throw Error(ErrorCode::InvalidArgument,
                "--token-file " + path + " must hold one token, without spaces or line breaks");
  }
  return token;
}

int run_serve(const Common& common, const ServeArgs& a) {
  // Parsed before the group is opened: a bad option never takes the writer lock.
  HttpServiceOptions options;
  if (!a.token_file.empty()) options.token = read_token(a.token_file);
  if (!a.retrain_every.empty()) {
    options.retrain_every = std::chrono::duration_cast<std::chrono::seconds>(
        parse_duration("--retrain-every", a.retrain_every));
    if (options.retrain_every.count() == 0) {
      throw bad_option("--retrain-every", "a duration of at least 1s", a.retrain_every);
    }
  }
  if (!a.retrain_after_events.empty()) {
    options.retrain_after_events = parse_count("--retrain-after-events", a.retrain_after_events);
  }
  if (a.retrain_mode == "FULL" || a.retrain_mode == "UPDATE") {
    options.retrain_mode = a.retrain_mode == "FULL" ? TrainingMode::Full : TrainingMode::Update;
  } else {
    throw bad_option("--retrain-mode", "FULL or UPDATE", a.retrain_mode);
  }
  options.max_body_bytes = parse_count("--max-body-bytes", a.max_body);
  // A limit of 0 would refuse every connection: at least 1.
  auto connection_limit = [](const std::string& option, const std::string& text) {
    const std::size_t n = parse_count(option, text);
    if (n == 0) throw bad_option(option, "a whole number >= 1", text);
    return n;
  };
  options.max_connections = connection_limit("--max-connections", a.max_connections);
  options.max_connections_per_client =
      connection_limit("--max-connections-per-client", a.max_connections_per_client);
  options.read_timeout = parse_duration("--read-timeout", a.read_timeout);
  options.idle_timeout = parse_duration("--idle-timeout", a.idle_timeout);

  // SIGTERM and SIGINT are taken by sigwait() below; blocked before any thread starts, so that
  // every thread inherits the mask and none is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Each connection is a descriptor: under a shell's usual soft limit (1024) the server would run
  // out of them before its connection limit, and clients past it would wait unanswered instead
  // of being told 429. The soft limit may be raised to the hard one.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }

  HttpService service(open_store(common, StoreAccess::ReadWrite), options);
  service.start(a.host, static_cast<std::uint16_t>(a.port), common.threads);
  const bool v6 = a.host.find(':') != std::string::npos;
  std::printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", a.host.c_str(), v6 ? "]" : "",
              static_cast<unsigned>(service.port()));
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  std::fprintf(stderr, "tailor serve: %s, stopping\n", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  service.stop();  // in-flight requests are answered; acknowledged events are already durable
  // A retrain still running is not waited for: it can take minutes on a large group, and a
  // supervisor waits 5 seconds. Its version is not saved, as after a SIGKILL, which the store
  // survives (a half-written version file is removed when the group is next opened).
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(0);
}

}  // namespace

void add_serve(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = add_command(app, common, "serve",
                              "serve the group's solutions over HTTP (Personalize's runtime API)");
  cmd->add_option("--host", a->host, "address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", a->port, "port (default 8080; 0 picks a free one)")
      ->check(whole_number(0, 65535, "a port from 0 to 65535"));
  cmd->add_option("--token-file", a->token_file,
                  "file holding a token every request must send as Authorization: Bearer TOKEN");
  cmd->add_option("--retrain-every", a->retrain_every,
                  "retrain every solution on this period (90s, 15m, 2h, 1d)");
  cmd->add_option("--retrain-after-events", a->retrain_after_events,
                  "retrain a solution after this many new events");
  cmd->add_option("--retrain-mode", a->retrain_mode, "FULL (default) or UPDATE");
  cmd->add_option("--max-body-bytes", a->max_body, "largest request body (default 1048576)");
  cmd->add_option("--max-connections", a->max_connections,
                  "connections open at once; one more is answered 429 (default 1024)");
  cmd->add_option("--max-connections-per-client", a->max_connections_per_client,
                  "connections open at once from one client address (default 256)");
  cmd->add_option("--read-timeout", a->read_timeout,
                  "a request must arrive within this time of its first byte (default 10s)");
  cmd->add_option("--idle-timeout", a->idle_timeout,
                  "close keep-alive connections idle this long (default 60s)");
  commands.push_back({cmd, [&common, a] { return run_serve(common, *a); }});
}

}  // namespace tailor::cli
