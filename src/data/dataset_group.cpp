// SPDX-License-Identifier: MIT
// DatasetGroup: construction and accessors (import lives in import_stage.cpp, import_commit.cpp).
#include "tailor/data/dataset_group.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>

#include "tailor/error.hpp"

namespace tailor {

namespace detail {
namespace {
std::uint64_t next_instance_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

InstanceId::InstanceId() noexcept : value_(next_instance_id()) {}

InstanceId& InstanceId::operator=(const InstanceId&) noexcept {
  value_ = next_instance_id();
  return *this;
}
}  // namespace detail

DatasetGroup::DatasetGroup(Schema interactions, std::optional<Schema> users,
                           std::optional<Schema> items)
    : interactions_schema_(std::move(interactions)), interactions_(interactions_schema_) {
  TAILOR_THROW_IF(interactions_schema_.kind() != DatasetKind::Interactions,
                  ErrorCode::InvalidArgument,
                  "the first schema of a DatasetGroup must be an "
                  "Interactions schema, found ",
                  to_string(interactions_schema_.kind()));
  if (users) {
    TAILOR_THROW_IF(users->kind() != DatasetKind::Users, ErrorCode::InvalidArgument,
                    "the users schema is a ", to_string(users->kind()), " schema");
    users_.emplace(std::move(*users));
  }
  if (items) {
    TAILOR_THROW_IF(items->kind() != DatasetKind::Items, ErrorCode::InvalidArgument,
                    "the items schema is a ", to_string(items->kind()), " schema");
    items_.emplace(std::move(*items));
  }
}

bool DatasetGroup::has_dataset(DatasetKind kind) const {
  switch (kind) {
    case DatasetKind::Interactions:
      return true;
    case DatasetKind::Users:
      return users_.has_value();
    case DatasetKind::Items:
      return items_.has_value();
  }
  return false;
}

const Schema& DatasetGroup::schema(DatasetKind kind) const {
  TAILOR_THROW_IF(!has_dataset(kind), ErrorCode::NotFound, "the dataset group has no ",
                  to_string(kind), " dataset");
  switch (kind) {
    case DatasetKind::Users:
      return users_->schema();
    case DatasetKind::Items:
      return items_->schema();
    default:
      return interactions_schema_;
  }
}

std::size_t DatasetGroup::rows(DatasetKind kind) const {
  switch (kind) {
    case DatasetKind::Interactions:
      return interactions_.size();
    case DatasetKind::Users:
      return users_ ? users_->count() : 0;
    case DatasetKind::Items:
      return items_ ? items_->count() : 0;
  }
  return 0;
}

ImportReport DatasetGroup::import_csv(DatasetKind kind, const std::string& path,
                                      const ImportOptions& options) {
  return commit(stage_csv(kind, path, options));
}

std::size_t DatasetGroup::memory_bytes() const {
  return user_ids_.memory_bytes() + item_ids_.memory_bytes() + interactions_.memory_bytes() +
         (users_ ? users_->memory_bytes() : 0) + (items_ ? items_->memory_bytes() : 0);
}

}  // namespace tailor
