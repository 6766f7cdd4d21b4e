// SPDX-License-Identifier: MIT
// Deletion leaves no byte of the ids: after delete-users and delete-items, no file in the group
// directory holds the deleted ids or their data, a deleted user is a cold start and a deleted item
// is never recommended.
#include <gtest/gtest.h>

#include "reliability/support.hpp"

namespace tailor::reliability {
namespace {

// What must vanish: the ids, their metadata values and their events' ids.
const std::vector<std::string> kForgotten = {
    "forget-me-alpha",     "forget-me-beta",  "Zyzzyva-Dept-4471",
    "Zq-Land-9913",        "gone-item-xq",    "Quixotic-Title-8812",
    "Gone-Community-5531", "vanish-tag-3319", "forget-evt-"};

// The files of the group directory holding any forgotten string, with the string.
std::vector<std::string> traces(const std::string& group) {
  std::vector<std::string> found;
  for (const auto& [file, bytes] : directory_bytes(group, true)) {
    for (const std::string& s : kForgotten) {
      if (contains(bytes, s)) found.push_back(file + " holds " + s);
    }
  }
  return found;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

TEST(ReliabilityDeletion, DeletedUsersAndItemsLeaveNoByteInAnyFileAndAreNeverServed) {
  TempDir dir("deletion");
  const std::string group = dir / "g";
  create_group(dir.path, group);
  for (const char* dataset : {"users", "items", "interactions"}) {
    const Result r = cli(
        dir.path, {"import", group, "--dataset", dataset, "--csv", data_dir() + dataset + ".csv"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  write_bytes(
      dir / "users.jsonl",
      R"({"userId":"forget-me-alpha","properties":{"department":"Zyzzyva-Dept-4471","country":"Zq-Land-9913","role":"intern"}})"
      "\n"
      R"({"userId":"forget-me-beta","properties":{"department":"Zyzzyva-Dept-4471","country":"FR","role":"intern"}})"
      "\n");
  write_bytes(
      dir / "items.jsonl",
      R"({"itemId":"gone-item-xq","properties":{"contentType":"blog_post","community":"Gone-Community-5531","tags":"vanish-tag-3319","title":"Quixotic-Title-8812","creationTimestamp":1778222589}})"
      "\n");
  // The deleted users read a lot, and the deleted item is read by 300 users: before deletion it
  // is recommended widely.
  std::string events;
  for (int k = 0; k < 300; ++k) {
    char user[24];
    std::snprintf(user, sizeof user, "user-%04d", k);
    events += event_line(user, "gone-item-xq", "gone-evt-" + std::to_string(k), 1780000000 + k);
  }
  for (int k = 0; k < 60; ++k) {
    char item[24];
    std::snprintf(item, sizeof item, "item-%04d", k * 7);
    events +=
        event_line(k % 2 ? "forget-me-alpha" : "forget-me-beta", k % 5 ? item : "gone-item-xq",
                   "forget-evt-" + std::to_string(k), 1780000000 + k);
  }
  write_bytes(dir / "events.jsonl", events);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"put-users", group, "--input", dir / "users.jsonl", "--json"},
           {"put-items", group, "--input", dir / "items.jsonl", "--json"},
           {"put-events", group, "--input", dir / "events.jsonl", "--json"}}) {
    const Result r = cli(dir.path, args);
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_EQ(json(r.out).find("rejected")->as_int(), 0) << args[0] << ": " << r.out;
  }
  // Two versions of user-personalization, and item similarities.
  const std::string params = R"({"factors": 8, "iterations": 3})";
  for (int k = 0; k < 2; ++k) {
    const Result r = cli(dir.path, {"train", group, "--recipe", "user-personalization", "--params",
                                    params, "--no-metrics"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  ASSERT_EQ(cli(dir.path, {"train", group, "--recipe", "sims", "--no-metrics"}).status, 0);

  // Everyone, the deleted users included, as batch input.
  std::string everyone;
  for (int k = 0; k < 600; ++k) {
    char user[24];
    std::snprintf(user, sizeof user, "user-%04d", k);
    everyone += "{\"userId\":\"" + std::string(user) + "\"}\n";
  }
  everyone += "{\"userId\":\"forget-me-alpha\"}\n{\"userId\":\"forget-me-beta\"}\n";
  write_bytes(dir / "everyone.jsonl", everyone);
  auto batch = [&] {
    const Result r = cli(
        dir.path, {"batch", group, "--input", dir / "everyone.jsonl", "--output", dir / "out.jsonl",
                   "--solution", "user-personalization", "-n", "50", "--json"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json(r.out).find("failed")->as_int(), 0) << r.out;
    return read_bytes(dir / "out.jsonl");
  };

  // Before: the scan finds them (so it can fail), and the item is recommended.
  {
    const std::string all_traces = joined(traces(group));
    for (const std::string& s : kForgotten)
      EXPECT_TRUE(contains(all_traces, " holds " + s + "\n")) << s;
  }
  ASSERT_TRUE(contains(batch(), "\"gone-item-xq\""));
  Result before = cli(dir.path, {"recommend", group, "--user", "forget-me-alpha", "--solution",
                                 "user-personalization"});
  ASSERT_EQ(before.status, 0) << before.err;
  ASSERT_FALSE(contains(before.out, "unknown user"));

  Result users =
      cli(dir.path, {"delete-users", group, "--ids", "forget-me-alpha,forget-me-beta", "--json"});
  ASSERT_EQ(users.status, 0) << users.err;
  EXPECT_EQ(json(users.out).find("deleted")->as_int(), 2) << users.out;
  EXPECT_EQ(json(users.out).find("interactionsRemoved")->as_int(), 60) << users.out;
  write_bytes(dir / "items.csv", "ITEM_ID\ngone-item-xq\n");
  Result items = cli(dir.path, {"delete-items", group, "--csv", dir / "items.csv", "--json"});
  ASSERT_EQ(items.status, 0) << items.err;
  EXPECT_EQ(json(items.out).find("deleted")->as_int(), 1) << items.out;
  EXPECT_EQ(json(items.out).find("interactionsRemoved")->as_int(), 300) << items.out;

  // After: not a byte of them in any file, recursively.
  EXPECT_TRUE(traces(group).empty())
      << joined(traces(group)) << "files: " << names_of(directory_bytes(group, true));
  // Both versions were kept, and rewritten.
  const Result info = cli(dir.path, {"info", group, "--json"});
  ASSERT_EQ(info.status, 0) << info.err;
  const detail::Json info_json = json(info.out);
  for (const detail::Json& s : info_json.find("solutions")->items()) {
    if (s.find("name")->as_string() == "user-personalization") {
      EXPECT_EQ(s.find("versions")->items().size(), 2u);
    }
  }
  EXPECT_EQ(json(info.out).find("datasets")->find("users")->find("rows")->as_int(), 600);
  EXPECT_EQ(json(info.out).find("datasets")->find("items")->find("rows")->as_int(), 1200);

  // A deleted user is a cold start; the deleted item is never served, to anyone, by any solution.
  Result after = cli(dir.path, {"recommend", group, "--user", "forget-me-alpha", "--solution",
                                "user-personalization", "-n", "100"});
  ASSERT_EQ(after.status, 0) << after.err;
  EXPECT_TRUE(contains(after.out, "(unknown user: popular items)")) << after.out;
  EXPECT_FALSE(contains(after.out, "gone-item-xq")) << after.out;
  EXPECT_FALSE(contains(batch(), "gone-item-xq"));
  for (const char* item : {"item-0007", "item-0014", "item-0000"}) {
    Result similar =
        cli(dir.path, {"recommend", group, "--item", item, "--solution", "sims", "-n", "100"});
    EXPECT_EQ(similar.status, 0) << similar.err;
    EXPECT_FALSE(contains(similar.out, "gone-item-xq")) << similar.out;
  }
  Result gone = cli(dir.path, {"recommend", group, "--item", "gone-item-xq", "--solution", "sims"});
  EXPECT_NE(gone.status, 0) << gone.out;
  // Older versions forgot them too: roll back, and serve.
  ASSERT_EQ(cli(dir.path,
                {"activate", group, "--solution", "user-personalization", "--version", "000001"})
                .status,
            0);
  EXPECT_FALSE(contains(batch(), "gone-item-xq"));
  EXPECT_TRUE(traces(group).empty()) << joined(traces(group));
}

}  // namespace
}  // namespace tailor::reliability
