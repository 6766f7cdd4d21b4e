// SPDX-License-Identifier: MIT
// Solution versions of a store: the version index of each solution, version ids, migration of the
// old one-file layout, saving, listing, activating and loading versions.
//
// Solution versions: solutions/<name>/<id>.version per kept version, plus solutions/<name>/index
// (framed like every other file) listing them; see Store in persistence.hpp.
#include "persistence/store_versions.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <optional>

#include "persistence/files.hpp"
#include "persistence/serialize.hpp"
#include "tailor/error.hpp"
#include "tailor/persistence/persistence.hpp"

namespace tailor {

namespace detail {

bool valid_solution_name(const std::string& name) {
  return !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace detail

using detail::frame;
using detail::io_error;
using detail::kKindVersion;
using detail::read_file;
using detail::solutions_dir;
using detail::sync_directory;
using detail::unframe;
using detail::valid_solution_name;
using detail::write_atomic;

void save_version(const SolutionVersion& version, const std::string& path) {
  write_atomic(path, frame(kKindVersion, detail::serialize_version(version)));
}

SolutionVersion load_version(const std::string& path) {
  return detail::deserialize_version(unframe(read_file(path), kKindVersion, path), path);
}

namespace {

constexpr std::uint32_t kKindVersionIndex = 5;
constexpr char kLegacyId[] = "000001";  // the one version of a solution in the old layout

std::string solution_dir(const std::string& dir, const std::string& name) {
  return solutions_dir(dir) + "/" + name;
}
std::string index_path(const std::string& dir, const std::string& name) {
  return solution_dir(dir, name) + "/index";
}
std::string version_path(const std::string& dir, const std::string& name, const std::string& id) {
  return solution_dir(dir, name) + "/" + id + ".version";
}
// The layout before versions were kept: one file per solution.
std::string legacy_path(const std::string& dir, const std::string& name) {
  return solutions_dir(dir) + "/" + name + ".version";
}

std::string format_id(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  return std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
}

// An id's number, or 0 when it is not one (ids are digits only, so one can never name a path).
std::uint64_t id_number(const std::string& id) {
  if (id.empty() || id.size() > 18 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return std::stoull(id);
}

VersionInfo info_of(const SolutionVersion& v, std::string id, std::int64_t created_at) {
  return {std::move(id),      created_at,
          v.config().recipe,  v.mode(),
          v.metrics(),        v.training_seconds(),
          v.training_ranks(), v.hpo() ? v.hpo()->to_json() : std::string()};
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string id_list(const detail::VersionIndex& index) {
  std::string out;
  for (const VersionInfo& v : index.versions) out += (out.empty() ? "" : ", ") + v.id;
  return out;
}

// A solution's index, or nothing when it has none (never saved, or kept in the old layout).
// @throws Error(ParseError) naming the file for a damaged or inconsistent one
std::optional<detail::VersionIndex> read_index(const std::string& dir, const std::string& name) {
  const std::string path = index_path(dir, name);
  if (!std::filesystem::exists(path)) return std::nullopt;
  detail::VersionIndex index =
      detail::deserialize_version_index(unframe(read_file(path), kKindVersionIndex, path), path);
  TAILOR_THROW_IF(index.versions.empty(), ErrorCode::ParseError, path,
                  ": inconsistent contents (no version)");
  std::uint64_t previous = 0;
  bool active_found = false;
  for (const VersionInfo& v : index.versions) {
    const std::uint64_t n = id_number(v.id);
    TAILOR_THROW_IF(n <= previous || n >= index.next_id, ErrorCode::ParseError, path,
                    ": inconsistent contents (version id \"", v.id,
                    "\" out of order or out of range)");
    previous = n;
    active_found = active_found || v.id == index.active;
  }
  TAILOR_THROW_IF(!active_found, ErrorCode::ParseError, path,
                  ": inconsistent contents (active version \"", index.active, "\" is not listed)");
  return index;
}

void write_index(const std::string& dir, const std::string& name,
                 const detail::VersionIndex& index) {
  write_atomic(index_path(dir, name),
               frame(kKindVersionIndex, detail::serialize_version_index(index)));
}

// The index of a solution kept in the old layout, built from its one version file (its modification
// time stands for the creation time).
detail::VersionIndex legacy_index(const std::string& dir, const std::string& name) {
  const std::string path = legacy_path(dir, name);
  const SolutionVersion v = tailor::load_version(path);
  struct stat st {};
  TAILOR_THROW_IF(::stat(path.c_str(), &st) != 0, ErrorCode::Io, io_error("cannot stat", path));
  detail::VersionIndex index;
  index.next_id = 2;
  index.active = kLegacyId;
  index.versions.push_back(info_of(v, kLegacyId, static_cast<std::int64_t>(st.st_mtime)));
  return index;
}

struct SolutionIndex {
  detail::VersionIndex index;
  bool legacy = false;  // kept in the old layout (nothing written in solutions/<name>/ yet)
};

// The index of a solution in either layout. @throws Error(NotFound) when there is no such solution
SolutionIndex solution_index(const std::string& dir, const std::string& name) {
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::NotFound, "no solution named \"", name,
                  "\"");
  if (auto index = read_index(dir, name)) return {std::move(*index), false};
  TAILOR_THROW_IF(!std::filesystem::exists(legacy_path(dir, name)), ErrorCode::NotFound,
                  "no trained solution named \"", name, "\" in ", dir);
  return {legacy_index(dir, name), true};
}

void make_solution_dir(const std::string& dir, const std::string& name) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(solution_dir(dir, name), ec);
  TAILOR_THROW_IF(ec, ErrorCode::Io, "cannot create directory ", solution_dir(dir, name), ": ",
                  ec.message());
  if (created) sync_directory(solutions_dir(dir));
}

// Moves a solution from the old layout into its directory: copy the version file, write the index
// (from here on the new layout is read), then delete the old file. A crash anywhere leaves the
// solution readable.
void migrate(const std::string& dir, const std::string& name, const detail::VersionIndex& index) {
  make_solution_dir(dir, name);
  write_atomic(version_path(dir, name, kLegacyId), read_file(legacy_path(dir, name)));
  write_index(dir, name, index);
  std::filesystem::remove(legacy_path(dir, name));
  sync_directory(solutions_dir(dir));
}

// Deletes what the index does not name in a solution's directory: pruned versions, and files
// left by a crash (a version written but never listed, a temporary file, an old-layout file).
void remove_unlisted(const std::string& dir, const std::string& name,
                     const detail::VersionIndex& index) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(solution_dir(dir, name), ec)) {
    const std::string file = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    const bool listed =
        std::any_of(index.versions.begin(), index.versions.end(),
                    [&](const VersionInfo& v) { return file == v.id + ".version"; });
    if ((ext == ".version" && !listed) || ext == ".tmp") std::filesystem::remove(entry.path(), ec);
  }
  std::filesystem::remove(legacy_path(dir, name), ec);
}

// Names of the solutions stored in `dir`, in name order.
std::vector<std::string> solution_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(solutions_dir(dir), ec)) {
    const std::string file = entry.path().filename().string();
    std::string name;
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "index")) {
      name = file;
    } else if (entry.path().extension() == ".version") {
      name = entry.path().stem().string();  // the old layout
    }
    if (valid_solution_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  // A solution in both layouts (a crash during its migration) is listed once.
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// Every stored version file, of every solution.
std::vector<std::string> stored_version_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const std::string& name : solution_names(dir)) {
    if (auto index = read_index(dir, name)) {
      for (const VersionInfo& v : index->versions) files.push_back(version_path(dir, name, v.id));
    } else if (std::filesystem::exists(legacy_path(dir, name))) {
      files.push_back(legacy_path(dir, name));
    }
  }
  return files;
}

}  // namespace

std::string Store::save_version(const SolutionVersion& given) {
  require_writable("save a solution version");
  // A version trained on data copied before a deletion must not bring the deleted rows back.
  auto [deleted_users, deleted_items] = group_->read([](const DatasetGroup& g) {
    return std::make_pair(g.deleted_users().set_indices(), g.deleted_items().set_indices());
  });
  const SolutionVersion version =
      deleted_users.empty() && deleted_items.empty()
          ? given
          : given.with_model(given.model()->without(deleted_users, deleted_items));
  const std::string& name = version.config().name;
  TAILOR_THROW_IF(!valid_solution_name(name), ErrorCode::InvalidArgument, "solution name \"", name,
                  "\" must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  TAILOR_THROW_IF(options_.versions_kept < 1, ErrorCode::InvalidArgument,
                  "StoreOptions::versions_kept must be at least 1, found ", options_.versions_kept);
  detail::VersionIndex index;
  if (auto existing = read_index(dir_, name)) {
    index = std::move(*existing);
  } else if (std::filesystem::exists(legacy_path(dir_, name))) {
    index = legacy_index(dir_, name);
    migrate(dir_, name, index);
  } else {
    make_solution_dir(dir_, name);
  }
  const std::string id = format_id(index.next_id);
  // The version file first: until the index names it, a crash leaves the solution as it was.
  tailor::save_version(version, version_path(dir_, name, id));
  index.versions.push_back(info_of(version, id, now_seconds()));
  index.next_id += 1;
  index.active = id;
  // Drop the oldest beyond the limit. The active one (the new version, unless a caller activates
  // between saves) is never dropped.
  while (index.versions.size() > static_cast<std::size_t>(options_.versions_kept)) {
    const auto oldest = std::find_if(index.versions.begin(), index.versions.end(),
                                     [&](const VersionInfo& v) { return v.id != index.active; });
    index.versions.erase(oldest);
  }
  write_index(dir_, name, index);
  remove_unlisted(dir_, name, index);
  return id;
}

std::vector<std::string> Store::solutions() const { return solution_names(dir_); }

std::vector<VersionInfo> Store::versions(const std::string& solution) const {
  return solution_index(dir_, solution).index.versions;
}

std::string Store::active_version(const std::string& solution) const {
  return solution_index(dir_, solution).index.active;
}

void Store::activate(const std::string& solution, const std::string& id) {
  require_writable("activate a version");
  SolutionIndex s = solution_index(dir_, solution);
  const bool known = std::any_of(s.index.versions.begin(), s.index.versions.end(),
                                 [&](const VersionInfo& v) { return v.id == id; });
  TAILOR_THROW_IF(!known, ErrorCode::NotFound, "solution \"", solution, "\" has no version \"", id,
                  "\" (kept: ", id_list(s.index), ")");
  s.index.active = id;
  if (s.legacy) {
    migrate(dir_, solution, s.index);
  } else {
    write_index(dir_, solution, s.index);
  }
}

SolutionVersion Store::load_version(const std::string& solution) const {
  TAILOR_THROW_IF(!valid_solution_name(solution), ErrorCode::NotFound, "no solution named \"",
                  solution, "\"");
  if (auto index = read_index(dir_, solution)) {
    return tailor::load_version(version_path(dir_, solution, index->active));
  }
  // The old layout: its one version (read directly, not through legacy_index, to load it once).
  const std::string path = legacy_path(dir_, solution);
  TAILOR_THROW_IF(!std::filesystem::exists(path), ErrorCode::NotFound,
                  "no trained solution named \"", solution, "\" in ", dir_);
  return tailor::load_version(path);
}

SolutionVersion Store::load_version(const std::string& solution, const std::string& id) const {
  const SolutionIndex s = solution_index(dir_, solution);
  const bool known = std::any_of(s.index.versions.begin(), s.index.versions.end(),
                                 [&](const VersionInfo& v) { return v.id == id; });
  TAILOR_THROW_IF(!known, ErrorCode::NotFound, "solution \"", solution, "\" has no version \"", id,
                  "\" (kept: ", id_list(s.index), ")");
  return tailor::load_version(s.legacy ? legacy_path(dir_, solution)
                                       : version_path(dir_, solution, id));
}

std::vector<std::string> Store::version_files() const { return stored_version_files(dir_); }

namespace detail {

void check_versions_forgettable(const std::string& dir) {
  for (const std::string& path : stored_version_files(dir)) {
    try {
      // Forgetting nobody tells whether the model can forget at all.
      tailor::load_version(path).model()->without({}, {});
    } catch (const Error& e) {
      TAILOR_THROW(e.code(), "deletion refused, nothing changed: ", e.what());
    }
  }
}

void forget_in_versions(const std::string& dir, const std::vector<Index>& users,
                        const std::vector<Index>& items) {
  // Leftovers of an interrupted save may hold the rows too: they go first.
  for (const std::string& name : solution_names(dir)) {
    if (auto index = read_index(dir, name)) remove_unlisted(dir, name, *index);
  }
  for (const std::string& path : stored_version_files(dir)) {
    const SolutionVersion v = tailor::load_version(path);
    tailor::save_version(v.with_model(v.model()->without(users, items)), path);
  }
}

}  // namespace detail

}  // namespace tailor
