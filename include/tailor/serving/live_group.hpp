// SPDX-License-Identifier: MIT
// LiveDatasetGroup: a DatasetGroup shared by readers (campaigns, training) and writers (event
// tracking), with short critical sections on both sides.
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "tailor/data/dataset_group.hpp"
#include "tailor/export.hpp"

namespace tailor {

/// A DatasetGroup behind a reader-writer lock.
///
/// Readers (read()) run concurrently; writers (write(), put_*) are exclusive but short: an event
/// is appended in microseconds, and training copies the events it needs under a read lock and
/// trains without any lock.
///
/// Thread safety: every member is safe to call from any number of threads.
class TAILOR_EXPORT LiveDatasetGroup {
 public:
  explicit LiveDatasetGroup(DatasetGroup group) : group_(std::move(group)) {}

  /// Runs fn(const DatasetGroup&) under the read lock and returns its result.
  template <typename Fn>
  auto read(Fn&& fn) const {
    { std::lock_guard<std::mutex> turn(turnstile_); }  // wait behind a waiting writer
    std::shared_lock<std::shared_mutex> lock(mutex_);
    return fn(static_cast<const DatasetGroup&>(group_));
  }
  /// Runs fn(DatasetGroup&) under the write lock and returns its result.
  template <typename Fn>
  auto write(Fn&& fn) {
    // Holding the turnstile stops new readers, so a stream of readers cannot starve a writer.
    std::lock_guard<std::mutex> turn(turnstile_);
    std::unique_lock<std::shared_mutex> lock(mutex_);
    return fn(group_);
  }

  PutReport put_events(const std::vector<EventRecord>& events) {
    return write([&](DatasetGroup& g) { return g.put_events(events); });
  }
  PutReport put_users(const std::vector<EntityRecord>& users) {
    return write([&](DatasetGroup& g) { return g.put_users(users); });
  }
  PutReport put_items(const std::vector<EntityRecord>& items) {
    return write([&](DatasetGroup& g) { return g.put_items(items); });
  }

 private:
  mutable std::mutex turnstile_;
  mutable std::shared_mutex mutex_;
  DatasetGroup group_;
};

}  // namespace tailor
