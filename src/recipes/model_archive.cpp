// SPDX-License-Identifier: MIT
// ModelArchive: named sections of a saved model.
#include "tailor/recipes/model_archive.hpp"

#include <utility>

#include "tailor/error.hpp"

namespace tailor {

namespace {

// The kind with its article, for messages.
const char* kind_name(ModelArchive::Kind kind) {
  switch (kind) {
    case ModelArchive::Kind::Text:
      return "a text";
    case ModelArchive::Kind::Floats:
      return "a float array";
    case ModelArchive::Kind::Indices:
      return "an index array";
    case ModelArchive::Kind::Integers:
      return "an integer array";
  }
  return "?";
}

}  // namespace

// One name, one section: putting a name removes a section of another kind under it.
void ModelArchive::remove(const std::string& name) {
  texts_.erase(name);
  floats_.erase(name);
  indices_.erase(name);
  integers_.erase(name);
}

void ModelArchive::put_text(const std::string& name, std::string value) {
  remove(name);
  texts_.emplace(name, std::move(value));
}
void ModelArchive::put_floats(const std::string& name, std::vector<float> values) {
  remove(name);
  floats_.emplace(name, std::move(values));
}
void ModelArchive::put_indices(const std::string& name, std::vector<Index> values) {
  remove(name);
  indices_.emplace(name, std::move(values));
}
void ModelArchive::put_integers(const std::string& name, std::vector<std::uint64_t> values) {
  remove(name);
  integers_.emplace(name, std::move(values));
}

bool ModelArchive::has(std::string_view name) const {
  return texts_.count(name) || floats_.count(name) || indices_.count(name) || integers_.count(name);
}

std::vector<std::string> ModelArchive::names() const {
  std::map<std::string, int> all;
  for (const auto& [name, value] : texts_) all[name];
  for (const auto& [name, value] : floats_) all[name];
  for (const auto& [name, value] : indices_) all[name];
  for (const auto& [name, value] : integers_) all[name];
  std::vector<std::string> out;
  for (const auto& [name, unused] : all) out.push_back(name);
  return out;
}

ModelArchive::Kind ModelArchive::kind(std::string_view name) const {
  if (texts_.count(name)) return Kind::Text;
  if (floats_.count(name)) return Kind::Floats;
  if (indices_.count(name)) return Kind::Indices;
  TAILOR_THROW_IF(!integers_.count(name), ErrorCode::ParseError, "model section \"", name,
                  "\" is missing");
  return Kind::Integers;
}

namespace {

template <typename Map>
const typename Map::mapped_type& section(const ModelArchive& archive, const Map& map,
                                         std::string_view name, ModelArchive::Kind wanted) {
  const auto it = map.find(name);
  if (it != map.end()) return it->second;
  const ModelArchive::Kind found = archive.kind(name);  // throws when missing
  TAILOR_THROW(ErrorCode::ParseError, "model section \"", name, "\" is ", kind_name(found),
               ", not ", kind_name(wanted));
}

}  // namespace

const std::string& ModelArchive::text(std::string_view name) const {
  return section(*this, texts_, name, Kind::Text);
}
const std::vector<float>& ModelArchive::floats(std::string_view name) const {
  return section(*this, floats_, name, Kind::Floats);
}
const std::vector<Index>& ModelArchive::indices(std::string_view name) const {
  return section(*this, indices_, name, Kind::Indices);
}
const std::vector<std::uint64_t>& ModelArchive::integers(std::string_view name) const {
  return section(*this, integers_, name, Kind::Integers);
}

}  // namespace tailor
