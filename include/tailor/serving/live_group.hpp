// SPDX-License-Identifier: MIT
// LiveDatasetGroup: the one write path of a dataset group. Every change goes through it, is
// journaled durably (when the group lives in a Store) and is visible to the next request of every
// campaign on the group.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "tailor/data/dataset_group.hpp"
#include "tailor/export.hpp"

namespace tailor {

/// What changed in a group, as told to subscribers (LiveDatasetGroup::subscribe()).
struct GroupChange {
  enum class Kind {
    Appended,  ///< interaction rows [first_row, end of the dataset) were appended
    Replaced,  ///< a bulk import changed the datasets: row numbers may have moved
    Entities,  ///< users or items were upserted; no interaction row changed
    Deleted,   ///< users or items were deleted: row numbers moved, and models must forget them
  };
  explicit GroupChange(Kind k) : kind(k) {}
  Kind kind;
  std::size_t first_row = 0;  ///< for Appended
  std::size_t events = 0;     ///< events stored by this change (Appended)
  std::vector<Index> users;   ///< for Deleted: the deleted users' indices
  std::vector<Index> items;   ///< for Deleted: the deleted items' indices
};

namespace detail {
/// Where a LiveDatasetGroup makes its changes durable: a Store's update log and snapshot. Not
/// API: Store implements it.
class Journal {
 public:
  virtual ~Journal() = default;
  /// Throws if the journal cannot take changes (a read-only store): called before anything of a
  /// change is applied.
  virtual void check_writable() const = 0;
  /// Writes a record of the accepted put_* records (`positions` of `records`). Returns a ticket
  /// for wait_durable(). Called with the group's writer lock held, in commit order.
  virtual std::uint64_t append_events(const std::vector<EventRecord>& records,
                                      const std::vector<std::size_t>& positions) = 0;
  virtual std::uint64_t append_entities(DatasetKind kind, const std::vector<EntityRecord>& records,
                                        const std::vector<std::size_t>& positions) = 0;
  /// Blocks until the record of `ticket` is on stable storage (group commit: one sync serves
  /// every record written before it). Called without the writer lock.
  virtual void wait_durable(std::uint64_t ticket) = 0;
  /// Makes the whole group durable at once (after a bulk import). Called with the writer lock
  /// held and the group unchanging.
  virtual void checkpoint(const DatasetGroup& group) = 0;
  /// Rewrites what is kept beside the group (stored solution versions) without these users and
  /// items; a checkpoint() follows. Called with the writer lock held.
  virtual void forget(const std::vector<Index>& users, const std::vector<Index>& items) = 0;
  /// Throws, changing nothing, when forget() could not rewrite what is kept (a version of a
  /// recipe this process has not registered, or whose model cannot forget). Called with the
  /// writer lock held, before a deletion changes the group.
  virtual void check_forgettable() = 0;
};
}  // namespace detail

/// A DatasetGroup shared by readers (campaigns, training) and writers (event tracking, imports,
/// user and item updates): the one way to change a group that is being served.
///
/// A change is validated without any lock, then — under a writer lock that orders all changes —
/// written to the journal (a Store's update log; none for a group kept only in memory), applied
/// under a short exclusive lock, and told to every subscriber (the campaigns on the group). A
/// put_* call returns once its records are durable; concurrent calls share one sync. Requests
/// are never blocked by validation, logging or syncing, only by the apply step (microseconds for
/// events, the commit of the parsed rows for a bulk import).
///
/// Thread safety: every member is safe to call from any number of threads.
class TAILOR_EXPORT LiveDatasetGroup {
 public:
  /// A group kept in memory only (tests, benchmarks, embedding without persistence).
  explicit LiveDatasetGroup(DatasetGroup group);
  /// A group whose changes go to `journal` first (Store does this).
  LiveDatasetGroup(DatasetGroup group, std::shared_ptr<detail::Journal> journal);
  ~LiveDatasetGroup();
  LiveDatasetGroup(const LiveDatasetGroup&) = delete;
  LiveDatasetGroup& operator=(const LiveDatasetGroup&) = delete;

  /// Runs fn(const DatasetGroup&) under the read lock and returns its result. Not reentrant:
  /// fn must not call read() or any writing member of this group.
  /// (A nested read() would wait behind a writer that waits for the outer one: debug builds
  /// assert against it.)
  template <typename Fn>
  auto read(Fn&& fn) const {
    assert(reading_ != this && "LiveDatasetGroup::read() is not reentrant");
    { std::lock_guard<std::mutex> turn(turnstile_); }  // wait behind a waiting writer
    std::shared_lock<std::shared_mutex> lock(mutex_);
    struct Reading {  // which group this thread reads, restored however fn ends
      const LiveDatasetGroup* outer;
      explicit Reading(const LiveDatasetGroup* group) : outer(reading_) { reading_ = group; }
      ~Reading() { reading_ = outer; }
    } reading(this);
    return fn(static_cast<const DatasetGroup&>(group_));
  }

  /// Appends events (bad ones rejected with reasons, retried eventIds stored once); returns when
  /// the accepted ones are durable and visible. @throws tailor::Error(Io) when the journal fails
  /// (then nothing of the call was applied)
  PutReport put_events(const std::vector<EventRecord>& events);
  /// Upserts users, as put_events(). @throws tailor::Error(NotFound) without a Users dataset
  PutReport put_users(const std::vector<EntityRecord>& users);
  /// Upserts items, as put_events(). @throws tailor::Error(NotFound) without an Items dataset
  PutReport put_items(const std::vector<EntityRecord>& items);
  /// Bulk import: the file is parsed and validated without any lock (requests go on), then
  /// committed and checkpointed. @throws as DatasetGroup::import_csv()
  ImportReport import_csv(DatasetKind kind, const std::string& path,
                          const ImportOptions& options = {});
  /// import_csv() of text in memory.
  ImportReport import_csv_text(DatasetKind kind, std::string_view csv,
                               const ImportOptions& options = {});

  /// Deletes users (Personalize's data deletion job): their interactions, events and metadata,
  /// and their ids. When it returns, the journal's files hold nothing of them (a Store rewrites
  /// its snapshot, log and stored versions) and every campaign on the group has forgotten them:
  /// the next request treats such a user as unknown. Unknown ids are counted, not errors.
  DeleteReport delete_users(const std::vector<std::string>& ids);
  /// Deletes items likewise; a deleted item is never recommended again.
  DeleteReport delete_items(const std::vector<std::string>& ids);

  /// Makes the group durable at once through the journal (a Store writes a snapshot and empties
  /// its log); nothing for a group kept in memory.
  void checkpoint();

  /// Called after every change, with no lock held but the writer lock (so changes arrive one at
  /// a time, in order). A subscriber may read() the group; it must not write to it, and what it
  /// throws is dropped (the change has happened either way).
  using Subscriber = std::function<void(const GroupChange&)>;
  /// Keeps a subscription alive; destroying it unsubscribes (waiting for a call in progress).
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept : group_(other.group_), id_(other.id_) {
      other.group_ = nullptr;
    }
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription() { reset(); }
    void reset();

   private:
    friend class LiveDatasetGroup;
    Subscription(LiveDatasetGroup* group, std::uint64_t id) : group_(group), id_(id) {}
    LiveDatasetGroup* group_ = nullptr;
    std::uint64_t id_ = 0;
  };
  /// Subscribes to changes; the subscription must not outlive the group.
  Subscription subscribe(Subscriber subscriber);

  /// Runs fn(DatasetGroup&) as one change: under the writer lock and the exclusive lock, then
  /// checkpointed through the journal and told to subscribers as `change`. For owners of the
  /// group's storage (Store) only: what fn does is not journaled record by record.
  template <typename Fn>
  auto rewrite(Fn&& fn, const GroupChange& change = GroupChange(GroupChange::Kind::Replaced)) {
    if (journal_) journal_->check_writable();
    std::lock_guard<std::mutex> writer(writer_);
    auto result = [&] {
      std::lock_guard<std::mutex> turn(turnstile_);
      std::unique_lock<std::shared_mutex> lock(mutex_);
      return fn(group_);
    }();
    if (journal_) journal_->checkpoint(group_);
    notify(change);
    return result;
  }

 private:
  PutReport put(StagedPut (DatasetGroup::*stage)(const std::vector<EntityRecord>&) const,
                DatasetKind kind, const std::vector<EntityRecord>& records);
  ImportReport import(StagedImport staged);
  DeleteReport erase(const std::vector<std::string>& ids, bool users);
  void notify(const GroupChange& change);

  static inline thread_local const LiveDatasetGroup* reading_ = nullptr;  // for read()'s assert
  std::shared_ptr<detail::Journal> journal_;
  std::mutex writer_;  // orders changes: journal order = apply order
  mutable std::mutex turnstile_;
  mutable std::shared_mutex mutex_;
  DatasetGroup group_;
  std::mutex subscribers_mutex_;  // held while subscribers run, so unsubscribing waits for them
  std::vector<std::pair<std::uint64_t, Subscriber>> subscribers_;
  std::uint64_t next_subscriber_ = 1;
};

}  // namespace tailor
