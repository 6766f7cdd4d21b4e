// SPDX-License-Identifier: MIT
// DatasetGroup: construction and accessors (import lives in import_stage.cpp, import_commit.cpp).
#include "tailor/data/dataset_group.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "detail/huge_pages.hpp"
#include "detail/parallel.hpp"
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

StagedImport DatasetGroup::stage_csv(DatasetKind kind, const std::string& path,
                                     const ImportOptions& options) const {
  schema(kind);  // a missing dataset is an error before any I/O
  // The file is read whole into memory that is neither zero-filled first nor grown (on huge pages
  // where the system has them, a 150 MB file is under a hundred page faults instead of 37,000).
  struct File {
    int fd = -1;
    char* data = nullptr;
    std::size_t size = 0;
    ~File() {
      if (data) detail::free_large(data, size);
      if (fd >= 0) ::close(fd);
    }
  } file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TAILOR_THROW_IF(file.fd < 0, ErrorCode::Io, "cannot open CSV file ", path, ": ",
                  std::strerror(errno));
  struct stat st {};
  TAILOR_THROW_IF(::fstat(file.fd, &st) != 0 || st.st_size < 0, ErrorCode::Io,
                  "error while reading CSV file ", path, ": ", std::strerror(errno));
  // A pipe or a character device has no size to read up to (st_size is 0): read to its end.
  if (!S_ISREG(st.st_mode)) {
    std::string data;
    char buffer[1 << 16];
    for (;;) {
      const ssize_t n = ::read(file.fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      TAILOR_THROW_IF(n < 0, ErrorCode::Io, "error while reading CSV file ", path, ": ",
                      std::strerror(errno));
      if (n == 0) break;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    return stage_csv_text(kind, data, options);
  }
  file.size = static_cast<std::size_t>(st.st_size);
  file.data = static_cast<char*>(detail::allocate_large(file.size));
  // Read in one part per thread, each by its own thread: copying the text and faulting in the
  // fresh memory it lands on (most of a cold import's system time) then run side by side. Parts
  // are whole huge pages, so no page is faulted in by two threads.
  const int threads = detail::resolve_threads(options.execution.num_threads);
  const std::size_t part = std::max(
      detail::kHugePage, (file.size / static_cast<std::size_t>(threads) + detail::kHugePage - 1) /
                             detail::kHugePage * detail::kHugePage);
  const std::size_t parts = (file.size + part - 1) / part;
  detail::parallel_for(parts, threads, [&](std::size_t k) {
    const std::size_t end = std::min(file.size, (k + 1) * part);
    for (std::size_t done = k * part; done < end;) {
      const ssize_t n = ::pread(file.fd, file.data + done, end - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      TAILOR_THROW_IF(n < 0, ErrorCode::Io, "error while reading CSV file ", path, ": ",
                      std::strerror(errno));
      TAILOR_THROW_IF(n == 0, ErrorCode::Io, "error while reading CSV file ", path,
                      ": it became shorter while it was read");
      done += static_cast<std::size_t>(n);
    }
  });
  // A read that races a truncation can copy the zeros the system writes over the cut page before it
  // drops it, and then return in full. The size is set before those zeros, so a file that is
  // shorter now than when it was opened is refused rather than imported with a zeroed stretch.
  struct stat after {};
  TAILOR_THROW_IF(::fstat(file.fd, &after) != 0, ErrorCode::Io, "error while reading CSV file ",
                  path, ": ", std::strerror(errno));
  TAILOR_THROW_IF(static_cast<std::size_t>(std::max<off_t>(after.st_size, 0)) < file.size,
                  ErrorCode::Io, "error while reading CSV file ", path,
                  ": it became shorter while it was read");
  return stage_csv_text(kind, std::string_view(file.data, file.size), options);
}

std::size_t DatasetGroup::memory_bytes() const {
  return user_ids_.memory_bytes() + item_ids_.memory_bytes() + interactions_.memory_bytes() +
         (users_ ? users_->memory_bytes() : 0) + (items_ ? items_->memory_bytes() : 0);
}

}  // namespace tailor
