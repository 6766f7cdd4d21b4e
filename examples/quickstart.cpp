// SPDX-License-Identifier: MIT
// The quickstart: the whole tailor journey on the sample data in data/: schemas, import, training
// with metrics, a campaign with filters, similar items, ranking, and live events.
//   tailor_quickstart [DATA_DIR]
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <tailor/tailor.hpp>
#include <utility>
#include <vector>

namespace {

void step(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

void print_metrics(const tailor::RankingMetrics& m, const tailor::RankingMetrics& baseline) {
  const auto a = m.named(), b = baseline.named();
  for (std::size_t k = 0; k < a.size(); ++k) {
    std::printf("  %-45s %.4f   (popularity-count %.4f)\n", a[k].first.c_str(), a[k].second,
                b[k].second);
  }
}

// A categorical metadata value as text ("?" when absent).
std::string metadata(const tailor::DatasetGroup& group, tailor::DatasetKind kind,
                     tailor::Index entity, const char* field) {
  const tailor::EntityTable* table =
      kind == tailor::DatasetKind::Users ? group.users() : group.items();
  const std::uint32_t row = table->row_of(entity);
  if (row == tailor::EntityTable::kNoRow) return "?";
  const tailor::Column& column = *table->column(field);
  std::string out;
  for (tailor::Index code : column.codes_at(row)) {
    out += (out.empty() ? "" : "|") + std::string(column.dictionary().name(code));
  }
  return out;
}

void print_response(const tailor::LiveDatasetGroup& live,
                    const tailor::RecommendationResponse& response) {
  live.read([&](const tailor::DatasetGroup& group) {
    for (const tailor::RecommendedItem& r : response.items) {
      const tailor::Index item = group.item_ids().find(r.item_id);
      const std::uint32_t row =
          item == tailor::kNoIndex ? tailor::EntityTable::kNoRow : group.items()->row_of(item);
      std::string score = r.score ? std::to_string(*r.score).substr(0, 8) : "-";
      std::printf("    %-20s %-9s %-16s %s\n", r.item_id.c_str(), score.c_str(),
                  row == tailor::EntityTable::kNoRow
                      ? ""
                      : metadata(group, tailor::DatasetKind::Items, item, "COMMUNITY").c_str(),
                  row == tailor::EntityTable::kNoRow
                      ? "(unknown item)"
                      : std::string(group.items()->column("TITLE")->text_at(row)).c_str());
    }
    return 0;
  });
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
  for (auto [kind, file] :
       {std::pair{DatasetKind::Interactions, "/interactions.csv"},
        std::pair{DatasetKind::Users, "/users.csv"}, std::pair{DatasetKind::Items, "/items.csv"}}) {
    auto start = std::chrono::steady_clock::now();
    tailor::ImportReport report = group.import_csv(kind, dir + file);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
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
  tailor::ImportReport bad =
      group.import_csv_text(DatasetKind::Interactions,
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

  step("5. A campaign: recommendations for two users, with and without a filter");
  auto live = std::make_shared<tailor::LiveDatasetGroup>(std::move(group));
  tailor::Solution als_solution({"user-personalization", "user-personalization", "{}", {}});
  tailor::Campaign campaign(live, als_solution, versions[0].second);
  auto unread = live->read([](const tailor::DatasetGroup& g) {
    return tailor::Filter::compile(R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))",
                                   g);
  });
  for (const char* user_id : {"user-0001", "user-0002"}) {
    tailor::RecommendationRequest request;
    request.user_id = user_id;
    request.num_results = 5;
    std::cout << user_id << " [" << live->read([&](const tailor::DatasetGroup& g) {
      return metadata(g, tailor::DatasetKind::Users, g.user_ids().find(user_id), "DEPARTMENT");
    }) << "], top 5:\n";
    print_response(*live, campaign.get_recommendations(request));
    request.filter = unread;
    std::cout << "  with EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"read\"):\n";
    print_response(*live, campaign.get_recommendations(request));
  }

  step("6. Similar items (sims)");
  tailor::Solution sims_solution({"sims", "sims", "{}", {}});
  tailor::Campaign similar(live, sims_solution, versions[1].second);
  tailor::RecommendationRequest like_this;
  like_this.item_id = "item-0000";
  like_this.num_results = 5;
  std::cout << "items like item-0000 (Engineering Hub):\n";
  print_response(*live, similar.get_recommendations(like_this));

  step("7. Personalized ranking of a given list");
  tailor::RankingRequest ranking;
  ranking.user_id = "user-0002";
  ranking.input_list = {"item-0001", "item-0004", "item-0008", "item-0012", "not-in-the-catalog"};
  std::cout << "user-0002 ranks " << ranking.input_list.size()
            << " items (unknown ones come last):\n";
  print_response(*live, campaign.get_personalized_ranking(ranking));

  step("8. Live events change the next recommendations");
  tailor::RecommendationRequest request;
  request.user_id = "user-0002";
  request.num_results = 5;
  request.filter = unread;
  const tailor::RecommendationResponse before = campaign.get_recommendations(request);
  std::vector<tailor::EventRecord> events;
  for (const char* item :
       {"item-0008", "item-0016", "item-0024", "item-0032"}) {  // engineering posts
    tailor::EventRecord e;
    e.user_id = "user-0002";
    e.session_id = "quickstart";
    e.item_id = item;
    e.event_type = "read";
    e.sent_at = 1790000000;
    events.push_back(e);
  }
  const tailor::PutReport report = campaign.put_events(events);
  std::cout << "user-0002 reads " << report.accepted << " engineering posts; before:\n";
  print_response(*live, before);
  std::cout << "  after (the posts just read are filtered, the taste has moved):\n";
  print_response(*live, campaign.get_recommendations(request));
  return 0;
} catch (const tailor::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
