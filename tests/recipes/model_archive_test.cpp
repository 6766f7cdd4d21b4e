// SPDX-License-Identifier: MIT
// ModelArchive: a saved model's named sections, found by name and kind, with clear errors.
#include "tailor/recipes/model_archive.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tailor/error.hpp"

namespace tailor {
namespace {

TEST(ModelArchive, SectionsAreFoundByNameAndKind) {
  ModelArchive a;
  a.put_text("params", R"({"k":1})");
  a.put_floats("weights", {0.5f, 1.5f});
  a.put_indices("items", {3, 1});
  a.put_integers("shape", {2, 2});
  EXPECT_EQ(a.names(), (std::vector<std::string>{"items", "params", "shape", "weights"}));
  EXPECT_EQ(a.kind("weights"), ModelArchive::Kind::Floats);
  EXPECT_EQ(a.text("params"), R"({"k":1})");
  EXPECT_EQ(a.floats("weights"), (std::vector<float>{0.5f, 1.5f}));
  EXPECT_EQ(a.indices("items"), (std::vector<Index>{3, 1}));
  EXPECT_EQ(a.integers("shape"), (std::vector<std::uint64_t>{2, 2}));
  EXPECT_TRUE(a.has("shape"));
  EXPECT_FALSE(a.has("missing"));

  // Putting a name again replaces the section, whatever its kind was.
  a.put_text("weights", "now text");
  EXPECT_EQ(a.kind("weights"), ModelArchive::Kind::Text);
  EXPECT_EQ(a.names().size(), 4u);

  auto parse_error = [](const auto& read, const char* words) {
    try {
      read();
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::ParseError);
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  parse_error([&] { a.floats("missing"); }, "\"missing\" is missing");
  parse_error([&] { a.floats("weights"); }, "is a text, not a float array");
  parse_error([&] { a.text("items"); }, "is an index array, not a text");
}

}  // namespace
}  // namespace tailor
