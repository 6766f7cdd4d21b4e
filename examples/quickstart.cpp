// SPDX-License-Identifier: MIT
// The quickstart: the whole tailor journey on the sample data in data/.
//   tailor_quickstart [DATA_DIR]
#include <tailor/tailor.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {

void step(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

void print_metrics(const tailor::RankingMetrics& m, const tailor::RankingMetrics& baseline) {
  const auto a = m.named(), b = baseline.named();
  for (std::size_t k = 0; k < a.size(); ++k) {
    std::printf("  %-45s %.4f   (popularity-count %.4f)\n", a[k].first.c_str(), a[k].second, b[k].second);
  }
}

// A categorical metadata value as text ("?" when absent).
std::string metadata(const tailor::DatasetGroup& group, tailor::DatasetKind kind, tailor::Index entity,
                     const char* field) {
  const tailor::EntityTable* table = kind == tailor::DatasetKind::Users ? group.users() : group.items();
  const std::uint32_t row = table->row_of(entity);
  if (row == tailor::EntityTable::kNoRow) return "?";
  const tailor::Column& column = *table->column(field);
  std::string out;
  for (tailor::Index code : column.codes_at(row)) {
    out += (out.empty() ? "" : "|") + std::string(column.dictionary().name(code));
  }
  return out;
}

std::vector<tailor::Index> history_of(const tailor::DatasetGroup& group, tailor::Index user) {
  std::vector<tailor::Index> items;
  const tailor::Interactions& in = group.interactions();
  for (std::size_t r = 0; r < in.size(); ++r) {
    if (in.users()[r] == user) items.push_back(in.items()[r]);
  }
  return items;
}

void print_items(const tailor::DatasetGroup& group, const std::vector<tailor::ScoredItem>& items) {
  for (const tailor::ScoredItem& s : items) {
    const tailor::Index row = group.items()->row_of(s.item);
    std::printf("    %-10s %7.4f  %-16s %s\n", std::string(group.item_ids().name(s.item)).c_str(), s.score,
                metadata(group, tailor::DatasetKind::Items, s.item, "COMMUNITY").c_str(),
                std::string(group.items()->column("TITLE")->text_at(row)).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string dir = argc > 1 ? argv[1] : "data";
  using tailor::DatasetKind;

  step("1. Schemas");
  tailor::Schema interactions =
      tailor::Schema::load(dir + "/interactions_schema.json", DatasetKind::Interactions);
  tailor::Schema users = tailor::Schema::load(dir + "/users_schema.json", DatasetKind::Users);
  tailor::Schema items = tailor::Schema::load(dir + "/items_schema.json", DatasetKind::Items);
  for (const tailor::Schema* s : {&interactions, &users, &items}) {
    std::cout << tailor::to_string(s->kind()) << ":";
    for (const tailor::Field& f : s->fields()) {
      std::cout << " " << f.name << "(" << tailor::to_string(f.type)
                << (f.nullable ? ", nullable" : "") << (f.categorical ? ", categorical" : "")
                << (f.textual ? ", textual" : "") << ")";
    }
    std::cout << "\n";
  }

  step("2. A dataset group and bulk import");
  tailor::DatasetGroup group(interactions, users, items);
  for (auto [kind, file] : {std::pair{DatasetKind::Interactions, "/interactions.csv"},
                            std::pair{DatasetKind::Users, "/users.csv"},
                            std::pair{DatasetKind::Items, "/items.csv"}}) {
    auto start = std::chrono::steady_clock::now();
    tailor::ImportReport report = group.import_csv(kind, dir + file);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << tailor::to_string(kind) << ": " << report.summary() << " in " << ms << " ms\n";
    if (!report.ok()) return 1;
  }
  std::cout << group.user_ids().size() << " users, " << group.item_ids().size() << " items, "
            << group.interactions().size() << " interactions, "
            << group.interactions().event_type_names().size() << " event types, "
            << group.memory_bytes() / 1024 << " KiB in memory\n";

  step("3. Bad rows are reported, never imported");
  tailor::ImportOptions incremental;
  incremental.mode = tailor::ImportMode::Incremental;
  tailor::ImportReport bad = group.import_csv_text(
      DatasetKind::Interactions,
      "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n"
      "user-0001,item-0001,yesterday,read,1\n"
      "user-0001,item-0002,1767225600,read\n",
      incremental);
  std::cout << bad.summary() << "\n";

  step("4. Train solutions; metrics next to the popularity baseline");
  std::vector<std::pair<std::string, tailor::SolutionVersion>> versions;
  for (const char* recipe : {"user-personalization", "sims"}) {
    tailor::Solution solution({recipe, recipe, "{}", {}});
    tailor::SolutionVersion version = solution.train(group);
    std::cout << recipe << " (trained in " << version.training_seconds() << " s)\n";
    print_metrics(*version.metrics(), *version.baseline_metrics());
    versions.emplace_back(recipe, std::move(version));
  }

  step("5. Recommendations for two users (their department in brackets)");
  const tailor::Model& als = *versions[0].second.model();
  for (const char* user_id : {"user-0001", "user-0002"}) {
    const tailor::Index user = group.user_ids().find(user_id);
    std::vector<tailor::Index> history = history_of(group, user);
    tailor::UserQuery query;
    query.user = user;
    query.history = history;
    std::vector<tailor::ScoredItem> recs;
    als.recommend(query, 5, {}, recs);
    std::cout << user_id << " [" << metadata(group, tailor::DatasetKind::Users, user, "DEPARTMENT")
              << "], " << history.size() << " interactions; top 5:\n";
    print_items(group, recs);
    tailor::ItemMask unread;
    unread.excluded = history;  // what the user already saw is not recommended again
    als.recommend(query, 5, unread, recs);
    std::cout << "  the same, leaving out what they already read:\n";
    print_items(group, recs);
  }

  step("6. Similar items (sims)");
  const tailor::Index item = group.item_ids().find("item-0000");
  std::vector<tailor::ScoredItem> similar;
  versions[1].second.model()->similar_items(item, 5, {}, similar);
  std::cout << "items like item-0000 (" << metadata(group, tailor::DatasetKind::Items, item, "COMMUNITY") << "):\n";
  print_items(group, similar);
  return 0;
} catch (const tailor::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
