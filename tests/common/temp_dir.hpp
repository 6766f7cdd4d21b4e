// SPDX-License-Identifier: MIT
// A directory under the system's temporary directory, unique to this process and object, removed
// when the object goes.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace tailor::test {

struct TempDir {
  std::string path;
  /// A path named `prefix`-PID-N, empty of anything left there; made when `create`.
  explicit TempDir(const std::string& prefix, bool create = false) {
    static int counter = 0;
    path = (std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
               .string();
    std::filesystem::remove_all(path);
    if (create) std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace tailor::test
