// SPDX-License-Identifier: MIT
// The write path: validate without locks, journal and apply under the writer lock, sync after it.
#include "tailor/serving/live_group.hpp"

#include <algorithm>
#include <optional>

namespace tailor {

LiveDatasetGroup::LiveDatasetGroup(DatasetGroup group) : group_(std::move(group)) {}

LiveDatasetGroup::LiveDatasetGroup(DatasetGroup group, std::shared_ptr<detail::Journal> journal)
    : journal_(std::move(journal)), group_(std::move(group)) {}

LiveDatasetGroup::~LiveDatasetGroup() = default;

PutReport LiveDatasetGroup::put_events(const std::vector<EventRecord>& events) {
  std::uint64_t ticket = 0;
  PutReport report;
  std::size_t first_row = 0;
  // Staging reads the eventIds stored so far, which only change under the writer lock, and
  // otherwise nothing but the schema. A batch without eventIds reads none of them, so it is
  // validated before taking the writer lock (as entities are): concurrent puts stage at once
  // instead of one after another.
  const bool has_event_ids = std::any_of(events.begin(), events.end(),
                                         [](const EventRecord& e) { return !e.event_id.empty(); });
  std::optional<StagedPut> unlocked;
  if (!has_event_ids) unlocked = group_.stage_events(events);
  {
    std::lock_guard<std::mutex> writer(writer_);
    StagedPut staged = unlocked ? std::move(*unlocked) : group_.stage_events(events);
    if (staged.accepted.empty()) return std::move(staged.report);
    // Journal first: a failed write applies nothing, and what is applied is in the log.
    if (journal_) ticket = journal_->append_events(events, staged.accepted);
    {
      std::lock_guard<std::mutex> turn(turnstile_);
      std::unique_lock<std::shared_mutex> lock(mutex_);
      first_row = group_.interactions().size();
      report = group_.commit(std::move(staged));
    }
    GroupChange change(GroupChange::Kind::Appended);
    change.first_row = first_row;
    change.events = report.accepted - report.duplicates;
    notify(change);
  }
  if (journal_) journal_->wait_durable(ticket);
  return report;
}

PutReport LiveDatasetGroup::put(StagedPut (DatasetGroup::*stage)(const std::vector<EntityRecord>&)
                                    const,
                                DatasetKind kind, const std::vector<EntityRecord>& records) {
  // Entities touch no eventId state: validate before taking the writer lock.
  StagedPut staged = (group_.*stage)(records);
  if (staged.accepted.empty()) return std::move(staged.report);
  std::uint64_t ticket = 0;
  PutReport report;
  {
    std::lock_guard<std::mutex> writer(writer_);
    if (journal_) ticket = journal_->append_entities(kind, records, staged.accepted);
    {
      std::lock_guard<std::mutex> turn(turnstile_);
      std::unique_lock<std::shared_mutex> lock(mutex_);
      report = group_.commit(std::move(staged));
    }
    notify(GroupChange(GroupChange::Kind::Entities));
  }
  if (journal_) journal_->wait_durable(ticket);
  return report;
}

PutReport LiveDatasetGroup::put_users(const std::vector<EntityRecord>& users) {
  return put(&DatasetGroup::stage_users, DatasetKind::Users, users);
}

PutReport LiveDatasetGroup::put_items(const std::vector<EntityRecord>& items) {
  return put(&DatasetGroup::stage_items, DatasetKind::Items, items);
}

ImportReport LiveDatasetGroup::import_csv(DatasetKind kind, const std::string& path,
                                          const ImportOptions& options) {
  // Staging only reads the schema, which never changes: no lock while the file is parsed.
  return import(group_.stage_csv(kind, path, options));
}

ImportReport LiveDatasetGroup::import_csv_text(DatasetKind kind, std::string_view csv,
                                               const ImportOptions& options) {
  return import(group_.stage_csv_text(kind, csv, options));
}

ImportReport LiveDatasetGroup::import(StagedImport staged) {
  if (!staged.committable()) return staged.report();
  // The rows are not copied into the log: the commit is followed by a checkpoint (snapshot).
  return rewrite([&](DatasetGroup& g) { return g.commit(std::move(staged)); });
}

DeleteReport LiveDatasetGroup::delete_users(const std::vector<std::string>& ids) {
  return erase(ids, true);
}
DeleteReport LiveDatasetGroup::delete_items(const std::vector<std::string>& ids) {
  return erase(ids, false);
}

DeleteReport LiveDatasetGroup::erase(const std::vector<std::string>& ids, bool users) {
  if (journal_) journal_->check_writable();
  std::lock_guard<std::mutex> writer(writer_);
  // Refused before the group changes: a deletion the kept versions cannot follow would leave
  // the users gone in memory and present on disk.
  if (journal_) journal_->check_forgettable();
  DeleteReport report;
  {
    std::lock_guard<std::mutex> turn(turnstile_);
    std::unique_lock<std::shared_mutex> lock(mutex_);
    report = users ? group_.delete_users(ids) : group_.delete_items(ids);
  }
  if (report.indices.empty()) return report;
  GroupChange change(GroupChange::Kind::Deleted);
  (users ? change.users : change.items) = report.indices;
  if (journal_) {
    // Versions first: a crash before the checkpoint then leaves the users in the data, to be
    // deleted again, but never their rows in a model the data no longer has.
    journal_->forget(change.users, change.items);
    journal_->checkpoint(group_);
  }
  notify(change);
  return report;
}

void LiveDatasetGroup::checkpoint() {
  std::lock_guard<std::mutex> writer(writer_);
  if (journal_) journal_->checkpoint(group_);
}

void LiveDatasetGroup::notify(const GroupChange& change) {
  std::lock_guard<std::mutex> lock(subscribers_mutex_);
  for (auto& [id, subscriber] : subscribers_) {
    // The change is logged and applied already: a subscriber's failure must not make the write
    // look failed to its caller (who would retry it), nor keep the other subscribers from hearing.
    try {
      subscriber(change);
    } catch (...) {
    }
  }
}

LiveDatasetGroup::Subscription LiveDatasetGroup::subscribe(Subscriber subscriber) {
  std::lock_guard<std::mutex> lock(subscribers_mutex_);
  const std::uint64_t id = next_subscriber_++;
  subscribers_.emplace_back(id, std::move(subscriber));
  return Subscription(this, id);
}

void LiveDatasetGroup::Subscription::reset() {
  if (!group_) return;
  std::lock_guard<std::mutex> lock(group_->subscribers_mutex_);
  auto& subs = group_->subscribers_;
  subs.erase(
      std::remove_if(subs.begin(), subs.end(), [&](const auto& s) { return s.first == id_; }),
      subs.end());
  group_ = nullptr;
}

LiveDatasetGroup::Subscription& LiveDatasetGroup::Subscription::operator=(
    Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    group_ = other.group_;
    id_ = other.id_;
    other.group_ = nullptr;
  }
  return *this;
}

}  // namespace tailor
