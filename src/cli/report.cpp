// SPDX-License-Identifier: MIT
// tailor report: one self-contained HTML file (inline CSS and SVG, no scripts, no external
// requests) to judge a solution: its metrics next to popularity's, metric@K curves, coverage,
// popularity bias, scores, the age of what it recommends, and users' histories beside their
// recommendations. The curves come from the solution's configuration retrained on Personalize's
// evaluation split (seed 42, as `tailor train`), so no held-out event was seen in training.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "cli/commands.hpp"
#include "cli/items_view.hpp"
#include "cli/svg.hpp"

namespace tailor::cli {
namespace {

constexpr std::size_t kMaxK = 25;

struct ReportArgs {
  std::string solution, output, metadata;
  std::size_t users = 6;
};

struct Curves {
  std::vector<double> ndcg, precision, recall, coverage;
};

Curves curves(const std::vector<std::vector<ScoredItem>>& lists, const EvaluationSplit& split,
              Index catalog) {
  Curves c;
  std::vector<char> seen(catalog, 0);
  std::size_t distinct = 0;
  for (std::size_t k = 1; k <= kMaxK; ++k) {
    double ndcg = 0, precision = 0, recall = 0;
    for (std::size_t u = 0; u < lists.size(); ++u) {
      std::vector<Index> ranked;
      for (const ScoredItem& s : lists[u]) ranked.push_back(s.item);
      const Span<Index> truth = split.tests[u].truth;
      ndcg += ndcg_at_k(ranked, truth, k);
      const double p = precision_at_k(ranked, truth, k);
      precision += p;
      recall += p * static_cast<double>(k) / static_cast<double>(truth.size());
      if (k <= ranked.size() && ranked[k - 1] < catalog && !seen[ranked[k - 1]]) {
        seen[ranked[k - 1]] = 1;
        ++distinct;
      }
    }
    const double n = std::max<double>(1, static_cast<double>(lists.size()));
    c.ndcg.push_back(ndcg / n);
    c.precision.push_back(precision / n);
    c.recall.push_back(recall / n);
    c.coverage.push_back(static_cast<double>(distinct) / std::max<double>(1, catalog));
  }
  return c;
}

std::string fixed(double v, int digits = 4) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

const char* kStyle =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}.note{color:#555;font-size:12px}"
    ".pair{display:flex;gap:16px;margin-bottom:12px}.pair>div{flex:1}";

int run_report(const Common& common, const ReportArgs& a) {
  TAILOR_THROW_IF(a.output.empty(), ErrorCode::InvalidArgument, "--output: give the HTML file");
  auto store = open_store(common, StoreAccess::ReadOnly);
  const std::string name = chosen_solution(*store, a.solution);
  const SolutionVersion version = store->load_version(name);
  const std::vector<std::string> columns =
      a.metadata.empty() ? std::vector<std::string>{} : split_list("--metadata", a.metadata);
  const Solution solution(version.config());
  const ExecutionOptions execution = execution_options(common);

  // The evaluation split of `tailor train`, and each item's interactions and first time.
  struct Data {
    EventColumns events;
    Index users = 0, items = 0;
  };
  Data d = store->group()->read([&](const DatasetGroup& g) {
    check_item_columns(g, columns);
    return Data{solution.select_events(g), g.user_ids().size(), g.item_ids().size()};
  });
  TAILOR_THROW_IF(d.events.size() == 0, ErrorCode::InvalidArgument, "solution ", name,
                  ": no events to evaluate on");
  std::vector<double> count(d.items, 0);
  std::vector<std::int64_t> first(d.items, INT64_MAX);
  std::int64_t newest = INT64_MIN;
  for (std::size_t e = 0; e < d.events.size(); ++e) {
    count[d.events.items[e]] += 1;
    first[d.events.items[e]] = std::min(first[d.events.items[e]], d.events.timestamps[e]);
    newest = std::max(newest, d.events.timestamps[e]);
  }
  EvaluationOptions eval;
  eval.execution = execution;
  EvaluationSplit split = split_for_evaluation(d.events, d.users, eval);
  TAILOR_THROW_IF(split.tests.empty(), ErrorCode::InvalidArgument, "solution ", name,
                  ": too few users with two or more events to evaluate on");
  EventColumns train = split.train;
  const TrainingData data =
      TrainingData::build(d.users, d.items, std::move(train.users), std::move(train.items),
                          std::move(train.timestamps), std::move(train.weights));
  TrainContext context;
  context.execution = execution;
  const auto model = RecipeRegistry::create(version.config().recipe, version.config().params_json)
                         ->train(data, context);
  const auto baseline = RecipeRegistry::baseline()->train(data, context);
  const auto model_lists = recommend_test_users(*model, split, kMaxK, execution);
  const auto baseline_lists = recommend_test_users(*baseline, split, kMaxK, execution);
  const RankingMetrics model_metrics = evaluate(*model, split, d.items, execution);
  const RankingMetrics baseline_metrics = evaluate(*baseline, split, d.items, execution);
  const Curves mc = curves(model_lists, split, d.items),
               bc = curves(baseline_lists, split, d.items);

  std::string html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  html += "tailor report: " + html_escape(name) + "</title><style>" + kStyle + "</style></head>";
  html += "<body><h1>Solution " + html_escape(name) + " (" + html_escape(version.config().recipe) +
          ")</h1>";
  html += "<p class=\"note\">Hyperparameters " + html_escape(version.config().params_json) +
          ". Curves and tables: the configuration retrained on Personalize's evaluation split "
          "(10% of users held out, seed " +
          std::to_string(execution.seed) + "; " + std::to_string(split.tests.size()) +
          " test users, each scored on their newest 10% with the rest as input).</p>";

  // Metrics next to popularity.
  html += "<h2>Metrics</h2><table><tr><th>metric</th><th>" + html_escape(name) + "</th><th>" +
          html_escape(RecipeRegistry::baseline()->name()) + "</th></tr>";
  const auto m = model_metrics.named(), b = baseline_metrics.named();
  for (std::size_t k = 0; k < m.size(); ++k) {
    html += "<tr><td>" + m[k].first + "</td><td class=\"n\">" + fixed(m[k].second) +
            "</td><td class=\"n\">" + fixed(b[k].second) + "</td></tr>";
  }
  html += "</table>";
  if (version.hpo()) {
    html += "<p class=\"note\">Chosen by a hyperparameter search: " +
            std::to_string(version.hpo()->trials.size()) + " trainings, best validation " +
            html_escape(version.hpo()->config.metric) + " " + fixed(version.hpo()->best_objective) +
            ".</p>";
  }

  // metric@K and coverage@K.
  std::vector<std::string> ks;
  for (std::size_t k = 1; k <= kMaxK; ++k) ks.push_back(std::to_string(k));
  const std::string pop = RecipeRegistry::baseline()->name();
  html += "<h2>Metrics at K</h2><div class=\"charts\">";
  html += svg_line_chart("NDCG@K", ks, {{name, mc.ndcg}, {pop, bc.ndcg}}, "NDCG");
  html +=
      svg_line_chart("Precision@K", ks, {{name, mc.precision}, {pop, bc.precision}}, "precision");
  html += svg_line_chart("Recall@K", ks, {{name, mc.recall}, {pop, bc.recall}}, "recall");
  html += svg_line_chart("Coverage@K (distinct items / catalog)", ks,
                         {{name, mc.coverage}, {pop, bc.coverage}}, "coverage");
  html += "</div>";

  // Popularity bias: the share of recommendation slots taken by the top 1% of items.
  std::vector<Index> by_count(d.items);
  for (Index i = 0; i < d.items; ++i) by_count[i] = i;
  std::stable_sort(by_count.begin(), by_count.end(),
                   [&](Index x, Index y) { return count[x] > count[y]; });
  const std::size_t head = std::max<std::size_t>(1, (d.items + 99) / 100);
  std::vector<char> in_head(d.items, 0);
  double head_events = 0;
  for (std::size_t k = 0; k < head && k < by_count.size(); ++k) {
    in_head[by_count[k]] = 1;
    head_events += count[by_count[k]];
  }
  auto head_share = [&](const std::vector<std::vector<ScoredItem>>& lists) {
    double slots = 0, hits = 0;
    for (const auto& list : lists) {
      for (const ScoredItem& s : list) {
        slots += 1;
        hits += s.item < d.items && in_head[s.item];
      }
    }
    return slots > 0 ? hits / slots : 0.0;
  };
  const double model_head = head_share(model_lists), pop_head = head_share(baseline_lists);
  const double data_head = head_events / static_cast<double>(d.events.size());
  html += "<h2>Popularity bias and coverage</h2><div class=\"charts\">";
  html += svg_bar_chart(
      "Share of top-25 slots going to the top 1% of items (" + std::to_string(head) + " items)",
      {"share"}, {{name, {model_head}}, {pop, {pop_head}}, {"interactions", {data_head}}}, "share");
  html += "</div><table><tr><th></th><th>" + html_escape(name) + "</th><th>" + html_escape(pop) +
          "</th><th>interactions</th></tr><tr><td>share of the top 1% of items</td><td "
          "class=\"n\">" +
          fixed(model_head, 3) + "</td><td class=\"n\">" + fixed(pop_head, 3) +
          "</td><td class=\"n\">" + fixed(data_head, 3) +
          "</td></tr><tr><td>coverage at 25</td><td class=\"n\">" + fixed(mc.coverage.back(), 3) +
          "</td><td class=\"n\">" + fixed(bc.coverage.back(), 3) + "</td><td></td></tr></table>";

  // Score distribution: the model's raw scores of its top 25.
  double low = INFINITY, high = -INFINITY;
  for (const auto& list : model_lists) {
    for (const ScoredItem& s : list) {
      if (std::isfinite(s.score)) {
        low = std::min<double>(low, s.score);
        high = std::max<double>(high, s.score);
      }
    }
  }
  html += "<h2>Scores and item age</h2><div class=\"charts\">";
  if (low <= high) {
    constexpr int kBins = 12;
    const double width = high > low ? (high - low) / kBins : 1.0;
    std::vector<double> bins(kBins, 0);
    double total = 0;
    for (const auto& list : model_lists) {
      for (const ScoredItem& s : list) {
        if (!std::isfinite(s.score)) continue;
        const int bin = std::min(kBins - 1, static_cast<int>((s.score - low) / width));
        bins[static_cast<std::size_t>(bin)] += 1;
        total += 1;
      }
    }
    std::vector<std::string> labels;
    for (int k = 0; k < kBins; ++k) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.3g", low + width * (k + 0.5));
      labels.emplace_back(k % 3 == 0 ? buffer : "");
    }
    for (double& v : bins) v /= std::max(1.0, total);
    html += svg_bar_chart("Raw scores of the top 25 (share)", labels, {{name, bins}}, "share");
  }

  // Age of recommended items: time from an item's first interaction to the newest event.
  const std::vector<std::pair<std::string, double>> ages = {
      {"<1d", 86400.0},         {"1-7d", 7 * 86400.0},     {"7-30d", 30 * 86400.0},
      {"30-90d", 90 * 86400.0}, {"90d-1y", 365 * 86400.0}, {">1y", INFINITY}};
  auto age_profile = [&](const std::vector<std::vector<Index>>& lists) {
    std::vector<double> share(ages.size(), 0);
    double total = 0;
    for (const auto& list : lists) {
      for (Index i : list) {
        if (i >= d.items || first[i] == INT64_MAX) continue;
        const double age = static_cast<double>(newest - first[i]);
        std::size_t bucket = 0;
        while (bucket + 1 < ages.size() && age >= ages[bucket].second) ++bucket;
        share[bucket] += 1;
        total += 1;
      }
    }
    for (double& v : share) v /= std::max(1.0, total);
    return share;
  };
  auto items_of = [](const std::vector<std::vector<ScoredItem>>& lists) {
    std::vector<std::vector<Index>> out;
    for (const auto& list : lists) {
      out.emplace_back();
      for (const ScoredItem& s : list) out.back().push_back(s.item);
    }
    return out;
  };
  std::vector<std::vector<Index>> truths;
  for (const TestUser& t : split.tests) truths.push_back(t.truth);
  std::vector<std::string> age_labels;
  for (const auto& [label, limit] : ages) age_labels.push_back(label);
  html += svg_bar_chart("Age of items (since their first interaction)", age_labels,
                        {{name, age_profile(items_of(model_lists))},
                         {pop, age_profile(items_of(baseline_lists))},
                         {"held-out events", age_profile(truths)}},
                        "share");
  html += "</div>";

  // A sample of users: recent history beside what the served version recommends.
  Campaign campaign(store->group(), version);
  std::vector<Index> candidates;
  for (const TestUser& t : split.tests) candidates.push_back(t.user);
  std::mt19937_64 rng(execution.seed);
  std::shuffle(candidates.begin(), candidates.end(), rng);
  candidates.resize(std::min(candidates.size(), a.users));
  html += "<h2>Sample users</h2><p class=\"note\">The served version's recommendations (" +
          html_escape(store->active_version(name)) + "), beside each user's newest events.</p>";
  for (Index user : candidates) {
    struct Side {
      std::string id;
      std::vector<std::vector<std::string>> history;
    };
    Side side = store->group()->read([&](const DatasetGroup& g) {
      Side s{std::string(g.user_ids().name(user)), {}};
      for (const HistoryEntry& e : recent_history(g, user, 10)) {
        std::vector<std::string> row = {utc_minute(e.timestamp),
                                        std::string(g.item_ids().name(e.item))};
        for (const std::string& c : columns) row.push_back(item_cell(g, e.item, c));
        s.history.push_back(std::move(row));
      }
      return s;
    });
    RecommendationRequest request;
    request.user_id = side.id;
    request.num_results = 10;
    request.explain = true;
    const RecommendationResponse response = campaign.get_recommendations(request);
    std::string header;
    for (const std::string& c : columns) header += "<th>" + html_escape(c) + "</th>";
    html += "<h3>User " + html_escape(side.id) + "</h3><div class=\"pair\"><div><table><tr><th>" +
            "when</th><th>item</th>" + header + "</tr>";
    for (const auto& row : side.history) {
      html += "<tr>";
      for (const std::string& cell : row) html += "<td>" + html_escape(cell) + "</td>";
      html += "</tr>";
    }
    html += "</table></div><div><table><tr><th>#</th><th>item</th><th>score</th>" + header +
            "<th>reason</th></tr>";
    store->group()->read([&](const DatasetGroup& g) {
      for (std::size_t k = 0; k < response.items.size(); ++k) {
        const RecommendedItem& r = response.items[k];
        html += "<tr><td class=\"n\">" + std::to_string(k + 1) + "</td><td>" +
                html_escape(r.item_id) + "</td><td class=\"n\">" +
                (r.score ? fixed(*r.score, 5) : std::string("-")) + "</td>";
        const Index item = g.item_ids().find(r.item_id);
        for (const std::string& c : columns)
          html += "<td>" + html_escape(item_cell(g, item, c)) + "</td>";
        html += "<td>" + html_escape(r.reason.empty() ? std::string() : r.reason[0]) + "</td></tr>";
      }
      return 0;
    });
    html += "</table></div></div>";
  }
  html += "</body></html>\n";

  std::ofstream out(a.output, std::ios::binary | std::ios::trunc);
  out << html;
  out.close();
  TAILOR_THROW_IF(!out, ErrorCode::Io, "cannot write ", a.output);
  if (common.json) {
    std::printf("{\"output\":\"%s\",\"testUsers\":%zu}\n", html_escape(a.output).c_str(),
                split.tests.size());
  } else {
    std::printf("wrote %s (%zu test users, %zu sample users)\n", a.output.c_str(),
                split.tests.size(), candidates.size());
  }
  return 0;
}

}  // namespace

void add_report(CLI::App& app, Common& common, Commands& commands) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* cmd = add_command(app, common, "report",
                              "write a self-contained HTML evaluation report of a solution");
  add_solution_option(cmd, a->solution);
  cmd->add_option("--output", a->output, "the HTML file to write")->required();
  cmd->add_option("--metadata", a->metadata, "items columns to show for sample users");
  cmd->add_option("--users", a->users, "sample users shown (default 6)")
      ->check(whole_number(0, 1000, "a whole number from 0 to 1000"));
  commands.push_back({cmd, [&common, a] { return run_report(common, *a); }});
}

}  // namespace tailor::cli
