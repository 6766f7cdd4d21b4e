// SPDX-License-Identifier: MIT
// A recipe written outside the library, used end to end in two processes:
//   tailor_custom_recipe train DATA_DIR STORE_DIR   registers department-popularity, imports the
//       sample data into a new store, trains and saves a version, serves it with a filter
//   tailor_custom_recipe serve STORE_DIR WORK_DIR   a fresh process: loads the saved version
//       (refused until the recipe is registered), serves it and runs a batch job
// Each step checks its own result and the program exits 1 when one is wrong.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <tailor/tailor.hpp>
#include <tuple>
#include <vector>

#include "department_popularity.hpp"

namespace {

using tailor::DatasetKind;
using tailor::Index;

const char* const kSolution = "by-department";
const char* const kFilterName = "unread";
const char* const kUnread = R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))";
const std::vector<std::string> kUsers = {"user-0001", "user-0002", "user-0003", "user-0004",
                                         "user-0005"};
constexpr std::size_t kResults = 10;

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("check failed: " + what);
  std::cout << "  ok: " << what << "\n";
}

std::vector<std::string> ids_of(const tailor::RecommendationResponse& response) {
  std::vector<std::string> ids;
  for (const tailor::RecommendedItem& r : response.items) ids.push_back(r.item_id);
  return ids;
}

// The reference answer, by brute force over the group: the user's department's readers per item
// (distinct users), ties by overall readers, then by item index; items the user read are left out.
std::vector<std::string> expected_top(const tailor::DatasetGroup& group, const std::string& user_id,
                                      std::size_t count) {
  const tailor::Column& department = *group.users()->column("DEPARTMENT");
  auto department_of = [&](Index user) -> Index {
    const std::uint32_t row = group.users()->row_of(user);
    if (row == tailor::EntityTable::kNoRow || department.codes_at(row).empty())
      return tailor::kNoIndex;
    return department.codes_at(row)[0];
  };
  const Index user = group.user_ids().find(user_id);
  const Index mine = department_of(user);
  const tailor::Interactions& in = group.interactions();
  const Index items = group.item_ids().size();
  std::vector<std::vector<char>> seen(items, std::vector<char>(group.user_ids().size(), 0));
  std::vector<double> same(items, 0), all(items, 0);
  std::vector<char> read(items, 0);
  for (std::size_t r = 0; r < in.size(); ++r) {
    const Index u = in.users()[r], i = in.items()[r];
    if (u == user && in.event_type_names().name(in.event_types()[r]) == "read") read[i] = 1;
    if (seen[i][u]) continue;
    seen[i][u] = 1;
    all[i] += 1;
    if (mine != tailor::kNoIndex && department_of(u) == mine) same[i] += 1;
  }
  std::vector<Index> order;
  for (Index i = 0; i < items; ++i) {
    if (!read[i]) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
    return same[a] != same[b] ? same[a] > same[b] : all[a] > all[b];
  });
  order.resize(std::min(order.size(), count));
  std::vector<std::string> ids;
  for (Index i : order) ids.emplace_back(group.item_ids().name(i));
  return ids;
}

int train(const std::string& data, const std::string& dir) {
  auto schema = [&](const char* file, DatasetKind kind) {
    return tailor::Schema::load(data + "/" + file, kind);
  };
  std::unique_ptr<tailor::Store> store = tailor::Store::create(
      dir, tailor::DatasetGroup(schema("interactions_schema.json", DatasetKind::Interactions),
                                schema("users_schema.json", DatasetKind::Users),
                                schema("items_schema.json", DatasetKind::Items)));
  for (auto [kind, file] :
       {std::pair{DatasetKind::Interactions, "/interactions.csv"},
        std::pair{DatasetKind::Users, "/users.csv"}, std::pair{DatasetKind::Items, "/items.csv"}}) {
    const tailor::ImportReport report = store->import_csv(kind, data + file);
    check(report.ok(), std::string(tailor::to_string(kind)) + " imported");
  }

  std::cout << "== Register " << department_popularity::kName << " and train it ==\n";
  department_popularity::register_recipe(store->group());
  tailor::Solution solution({kSolution, department_popularity::kName, "{}", {}});
  // Select under the group's read lock, train without it: the recipe reads the group itself.
  auto [events, users, items] = store->group()->read([&](const tailor::DatasetGroup& g) {
    return std::make_tuple(solution.select_events(g), g.user_ids().size(), g.item_ids().size());
  });
  const tailor::SolutionVersion version = solution.train(std::move(events), users, items);
  const tailor::RankingMetrics& m = *version.metrics();
  const tailor::RankingMetrics& baseline = *version.baseline_metrics();
  std::cout << "  precision_at_10 " << m.precision_at_10 << " (popularity-count "
            << baseline.precision_at_10 << ")\n";
  check(m.users_evaluated > 0, "metrics computed on a held-out split");
  const std::string id = store->save_version(version);
  store->save_filter(kFilterName, kUnread);
  check(store->active_version(kSolution) == id, "version " + id + " saved and active");

  std::cout << "== Serve it with a filter ==\n";
  tailor::Campaign campaign(store->group(), version);
  tailor::RecommendationRequest request;
  request.user_id = kUsers[1];
  request.num_results = kResults;
  request.filter = store->filter(kFilterName);
  const std::vector<std::string> got = ids_of(campaign.get_recommendations(request));
  const std::vector<std::string> want = store->group()->read(
      [&](const tailor::DatasetGroup& g) { return expected_top(g, request.user_id, kResults); });
  for (const std::string& item : got) std::cout << "  " << item << "\n";
  check(got == want, request.user_id + "'s department's most read unread items, best first");
  return 0;
}

int serve(const std::string& dir, const std::string& work) {
  tailor::StoreOptions read_only;
  read_only.access = tailor::StoreAccess::ReadOnly;
  std::unique_ptr<tailor::Store> store = tailor::Store::open(dir, read_only);

  std::cout << "== Load the saved version in a fresh process ==\n";
  try {
    store->load_version(kSolution);
    check(false, "a version of an unregistered recipe is refused");
  } catch (const tailor::Error& e) {
    std::cout << "  before registering: " << e.what() << "\n";
    check(e.code() == tailor::ErrorCode::NotFound,
          "a version of an unregistered recipe is refused");
  }
  department_popularity::register_recipe(store->group());
  const tailor::SolutionVersion version = store->load_version(kSolution);
  check(version.model()->recipe() == department_popularity::kName, "loaded after registering");

  std::cout << "== A batch job ==\n";
  tailor::Campaign campaign(store->group(), version);
  const std::string input = work + "/users.jsonl", output = work + "/recommendations.jsonl";
  {
    std::ofstream in(input);
    for (const std::string& user : kUsers) in << "{\"userId\":\"" << user << "\"}\n";
  }
  tailor::BatchOptions options;
  options.num_results = kResults;
  options.filter = store->filter(kFilterName);
  const tailor::BatchReport report = tailor::run_batch_inference(campaign, input, output, options);
  check(report.succeeded == kUsers.size() && report.failed == 0, "every line answered");

  std::ifstream out(output);
  std::string line;
  std::size_t k = 0;
  for (; std::getline(out, line) && k < kUsers.size(); ++k) {
    const std::vector<std::string> want = store->group()->read(
        [&](const tailor::DatasetGroup& g) { return expected_top(g, kUsers[k], kResults); });
    std::string items = "[";
    for (const std::string& id : want) items += (items.size() > 1 ? ",\"" : "\"") + id + "\"";
    items += "]";
    std::cout << "  " << line.substr(0, 120) << "...\n";
    check(line.find("\"recommendedItems\":" + items) != std::string::npos,
          kUsers[k] + ": the department's most read unread items");
  }
  check(k == kUsers.size(), "one output line per input line");
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc == 4 && mode == "train") return train(argv[2], argv[3]);
  if (argc == 4 && mode == "serve") return serve(argv[2], argv[3]);
  std::cerr << "usage: tailor_custom_recipe train DATA_DIR STORE_DIR\n"
               "       tailor_custom_recipe serve STORE_DIR WORK_DIR\n";
  return 2;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
