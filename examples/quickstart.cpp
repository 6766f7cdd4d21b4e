// SPDX-License-Identifier: MIT
// The quickstart: the whole tailor journey on the sample data in data/.
//   tailor_quickstart [DATA_DIR]
#include <tailor/tailor.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

void step(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

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
  return 0;
} catch (const tailor::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
