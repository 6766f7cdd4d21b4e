// SPDX-License-Identifier: MIT
// ModelArchive: a trained model's saved form, named sections of numbers and text. A model writes
// one (Model::save) and its recipe's loader reads it back (RecipeRegistry::add); the store keeps
// it inside the solution version's file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/types.hpp"

namespace tailor {

/// Named sections, each a text, a float array, an index array or an integer array. The store
/// checks every length when it reads a file, so a loader only ever sees whole sections; it must
/// still check what they hold (shapes, index ranges) and throw Error(ParseError) when they do not
/// fit together.
///
/// Thread safety: const members may be called concurrently; put_*() needs exclusive access.
class TAILOR_EXPORT ModelArchive {
 public:
  /// What a section holds.
  enum class Kind : std::uint8_t { Text = 1, Floats = 2, Indices = 3, Integers = 4 };

  /// Adds a section, replacing one of the same name.
  void put_text(const std::string& name, std::string value);
  void put_floats(const std::string& name, std::vector<float> values);
  void put_indices(const std::string& name, std::vector<Index> values);
  void put_integers(const std::string& name, std::vector<std::uint64_t> values);

  /// Whether a section of this name exists (of any kind).
  bool has(std::string_view name) const;
  /// The sections' names, sorted.
  std::vector<std::string> names() const;
  /// The kind of an existing section. @throws tailor::Error(ParseError) when it is missing
  Kind kind(std::string_view name) const;

  /// A section's contents.
  /// @throws tailor::Error(ParseError) naming the section when it is missing or of another kind
  const std::string& text(std::string_view name) const;
  const std::vector<float>& floats(std::string_view name) const;
  const std::vector<Index>& indices(std::string_view name) const;
  const std::vector<std::uint64_t>& integers(std::string_view name) const;

 private:
  void remove(const std::string& name);

  std::map<std::string, std::string, std::less<>> texts_;
  std::map<std::string, std::vector<float>, std::less<>> floats_;
  std::map<std::string, std::vector<Index>, std::less<>> indices_;
  std::map<std::string, std::vector<std::uint64_t>, std::less<>> integers_;
};

}  // namespace tailor
