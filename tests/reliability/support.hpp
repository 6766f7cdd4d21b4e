// SPDX-License-Identifier: MIT
// Helpers of the reliability suite: running the `tailor` command line as separate processes (in
// parallel where a test needs it), reading and damaging files, and the update log's layout.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/json.hpp"

namespace tailor::reliability {

namespace fs = std::filesystem;

/// A fresh directory for one test, removed at the end.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name)
      : path((fs::temp_directory_path() /
              ("tailor-reliability-" + name + "-" + std::to_string(::getpid())))
                 .string()) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline const std::string& cli_path() {
  static const std::string path = TAILOR_CLI;
  return path;
}

inline const std::string& data_dir() {
  static const std::string path = std::string(TAILOR_SOURCE_DIR) + "/data/";
  return path;
}

/// A started `tailor` process whose stdout and stderr go to files.
struct Process {
  pid_t pid = -1;
  std::string out_path, err_path;
};

/// Starts `tailor args...` with stdout and stderr in files named after `log_prefix`.
inline Process start_cli(const std::vector<std::string>& args, const std::string& log_prefix) {
  Process p;
  p.out_path = log_prefix + ".out";
  p.err_path = log_prefix + ".err";
  std::vector<std::string> argv_text = {cli_path()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  p.pid = ::fork();
  if (p.pid == 0) {
    const int out = ::open(p.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(p.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return p;
}

/// What a finished `tailor` process did.
struct Result {
  int status = -1;  ///< exit status, or -1 when it did not exit normally (killed by a signal)
  std::string out, err;
};

inline Result finish(const Process& p) {
  Result r;
  int status = 0;
  while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_bytes(p.out_path);
  r.err = read_bytes(p.err_path);
  fs::remove(p.out_path);
  fs::remove(p.err_path);
  return r;
}

/// Runs `tailor args...` to the end. Its output files live in `scratch`.
inline Result cli(const std::string& scratch, const std::vector<std::string>& args) {
  // Atomic: reader threads run commands at once, and two sharing a name would share output files.
  static std::atomic<int> counter{0};
  return finish(start_cli(args, scratch + "/cli-" + std::to_string(counter++)));
}

inline detail::Json json(const std::string& text) {
  return detail::parse_json(text, "command output");
}

/// `tailor info DIR --json`'s interaction row count, or -1 (with the failure in `why`).
inline long interaction_rows(const Result& info, std::string* why = nullptr) {
  if (info.status != 0) {
    if (why) *why = "status " + std::to_string(info.status) + ": " + info.err;
    return -1;
  }
  try {
    return static_cast<long>(
        json(info.out).find("datasets")->find("interactions")->find("rows")->as_int());
  } catch (const std::exception& e) {
    if (why) *why = std::string(e.what()) + " in " + info.out;
    return -1;
  }
}

/// Creates a group with the sample schemas (interactions, users and items).
inline void create_group(const std::string& scratch, const std::string& dir) {
  const Result r =
      cli(scratch, {"create", dir, "--interactions-schema", data_dir() + "interactions_schema.json",
                    "--users-schema", data_dir() + "users_schema.json", "--items-schema",
                    data_dir() + "items_schema.json"});
  if (r.status != 0) throw std::runtime_error("create failed: " + r.err);
}

/// One Personalize event as put-events reads it.
inline std::string event_line(const std::string& user, const std::string& item,
                              const std::string& event_id, long sent_at) {
  return "{\"userId\":\"" + user + "\",\"sessionId\":\"s-" + user + "\",\"itemId\":\"" + item +
         "\",\"eventType\":\"read\",\"eventId\":\"" + event_id +
         "\",\"sentAt\":" + std::to_string(sent_at) + "}\n";
}

// ---- The update log's layout (src/persistence/update_log.cpp), to damage it on purpose ----

/// Header frame: magic 8 | format 4 | kind 4 | length 8 | group id 32 | base sequence 8 |
/// checksum 8.
constexpr std::size_t kLogHeaderBytes = 8 + 4 + 4 + 8 + 32 + 8 + 8;
/// Record: magic 4 | kind 4 | sequence 8 | payload length 8 | header checksum 8 | payload |
/// checksum 8.
constexpr std::size_t kRecordHeaderBytes = 4 + 4 + 8 + 8 + 8;
constexpr std::size_t kRecordLengthOffset = 16;

struct LogRecordSpan {
  std::size_t offset = 0;  ///< first byte of the record
  std::size_t size = 0;    ///< bytes, header and checksums included
  std::uint64_t sequence = 0;
};

/// The records of an intact format-2 log, walked by their length fields.
inline std::vector<LogRecordSpan> log_records(const std::string& bytes) {
  std::vector<LogRecordSpan> out;
  std::size_t pos = kLogHeaderBytes;
  while (pos + kRecordHeaderBytes + 8 <= bytes.size()) {
    std::uint64_t sequence = 0, length = 0;
    std::memcpy(&sequence, bytes.data() + pos + 8, 8);
    std::memcpy(&length, bytes.data() + pos + kRecordLengthOffset, 8);
    const std::size_t size = kRecordHeaderBytes + length + 8;
    if (length > bytes.size() || pos + size > bytes.size()) break;
    out.push_back({pos, size, sequence});
    pos += size;
  }
  return out;
}

/// Whether `haystack` holds `needle` anywhere.
inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace tailor::reliability

namespace tailor::reliability {

/// Every file under `dir` (recursively) and its bytes, by path relative to `dir`; `lock` (the
/// writer lock, whose holder's pid changes) is left out unless `with_lock`.
inline std::map<std::string, std::string> directory_bytes(const std::string& dir,
                                                          bool with_lock = false) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), dir).string();
    if (relative == "lock" && !with_lock) continue;
    files[relative] = read_bytes(entry.path().string());
  }
  return files;
}

/// The names of the files in a directory-bytes map, for messages.
inline std::string names_of(const std::map<std::string, std::string>& files) {
  std::string out;
  for (const auto& [name, bytes] : files)
    out += name + " (" + std::to_string(bytes.size()) + " bytes) ";
  return out;
}

}  // namespace tailor::reliability
