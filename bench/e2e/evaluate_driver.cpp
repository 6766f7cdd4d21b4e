// SPDX-License-Identifier: MIT
// End-to-end benchmark driver: import an interactions CSV, train recipes, report metrics next to
// the popularity baseline, and time everything.
//
//   tailor_evaluate INTERACTIONS.csv [--recipe NAME]... [--params JSON] [--split held-out|latest]
//                   [--threads N] [--seed N] [--no-metrics] [--recommend-all] [--batch]
//                   [--batch-runs N] [--latency N] [--filter EXPR]
//
// --recommend-all times top-25 recommendations for every user (their history excluded) with the
// final model, on --threads threads, one Model::recommend() call per user. --batch times top-25
// recommendations for every user through a campaign's batch path (recommend_all(), as batch
// inference jobs run, for 10,000 users a call), on --threads threads, --batch-runs times (default
// 3; each run and the median are reported, with the rate per CPU second). --latency times N single
// top-25 requests to a campaign on the final model, users in turn, on one thread, and reports the
// median and 99th percentile; --filter gives each of those requests a filter (e.g. EXCLUDE ItemID
// WHERE Interactions.EVENT_TYPE IN ("*"): the user's own items).
//
// The CSV needs USER_ID, ITEM_ID, TIMESTAMP and may have EVENT_TYPE and EVENT_VALUE.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <tailor/tailor.hpp>
#include <thread>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// CPU seconds the process has used, all threads: on a machine shared with other work, the rate
// per CPU second tells the code's speed apart from the share of the cores it got.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// p50 and p99 of `count` single requests to a campaign serving `version`, users in turn, each with
// `filter` when there is one.
void time_requests(const tailor::DatasetGroup& group, const tailor::Solution& solution,
                   const tailor::SolutionVersion& version, std::size_t count,
                   const std::string& filter) {
  auto live = std::make_shared<tailor::LiveDatasetGroup>(group);
  tailor::Campaign campaign(live, solution, version);
  std::optional<tailor::Filter> compiled;
  if (!filter.empty()) compiled = tailor::Filter::compile(filter, group);
  std::vector<double> micros;
  for (std::size_t r = 0; r < count; ++r) {
    tailor::RecommendationRequest request;
    request.filter = compiled;
    // A stride through the users, so that consecutive requests share nothing.
    request.user_id = std::string(
        group.user_ids().name(static_cast<tailor::Index>((r * 7919) % group.user_ids().size())));
    const auto t = std::chrono::steady_clock::now();
    const tailor::RecommendationResponse response = campaign.get_recommendations(request);
    micros.push_back(seconds_since(t) * 1e6);
    if (response.items.empty()) throw std::runtime_error("an empty response");
  }
  std::sort(micros.begin(), micros.end());
  std::printf("  latency: %zu requests, p50 %.0f us, p99 %.0f us (1 thread%s)\n", count,
              micros[micros.size() / 2],
              micros[std::min(micros.size() - 1, micros.size() * 99 / 100)],
              filter.empty() ? "" : ", with the filter");
}

// Top-25 for every user through a campaign's batch path, recommend_all(), in calls of 10,000 users
// whose responses are dropped before the next call: the loop bench/side_by_side.py times implicit's
// recommend() in, and a batch job's memory use (all 100,000 responses at once would be 360 MB).
void time_batch(const tailor::DatasetGroup& group, const tailor::Solution& solution,
                const tailor::SolutionVersion& version, const tailor::ExecutionOptions& execution,
                std::size_t runs) {
  auto live = std::make_shared<tailor::LiveDatasetGroup>(group);
  tailor::Campaign campaign(live, solution, version);
  std::vector<tailor::RecommendationRequest> requests(group.user_ids().size());
  for (std::size_t u = 0; u < requests.size(); ++u) {
    requests[u].user_id = std::string(group.user_ids().name(static_cast<tailor::Index>(u)));
    requests[u].num_results = 25;
  }
  constexpr std::size_t kCall = 10000;
  std::vector<std::vector<tailor::RecommendationRequest>> calls;
  for (std::size_t first = 0; first < requests.size(); first += kCall) {
    calls.emplace_back(
        requests.begin() + static_cast<std::ptrdiff_t>(first),
        requests.begin() + static_cast<std::ptrdiff_t>(std::min(requests.size(), first + kCall)));
  }
  std::vector<double> rates, cpu_rates;
  for (std::size_t run = 0; run < runs; ++run) {
    const auto t = std::chrono::steady_clock::now();
    const double cpu = cpu_seconds();
    for (const std::vector<tailor::RecommendationRequest>& call : calls) {
      for (const tailor::RecommendationResult& r :
           tailor::recommend_all(campaign, call, execution)) {
        if (!r.ok() || r.response.items.size() != 25) throw std::runtime_error("a failed request");
      }
    }
    const double s = seconds_since(t), cpu_s = cpu_seconds() - cpu;
    const double users = static_cast<double>(requests.size());
    rates.push_back(users / s);
    cpu_rates.push_back(users / cpu_s);
    std::printf(
        "  batch (recommend_all): %zu users in %.3f s (%.3f CPU s), %.0f users/s (%d threads), "
        "%.0f users per CPU s\n",
        requests.size(), s, cpu_s, rates.back(), execution.num_threads, cpu_rates.back());
  }
  std::sort(rates.begin(), rates.end());
  std::sort(cpu_rates.begin(), cpu_rates.end());
  std::printf("  batch median over %zu runs: %.0f users/s, %.0f users per CPU s\n", runs,
              rates[rates.size() / 2], cpu_rates[cpu_rates.size() / 2]);
}

void print_metrics(const char* label, const tailor::RankingMetrics& m) {
  std::printf(
      "  %-22s p@5 %.4f  p@10 %.4f  p@25 %.4f  ndcg@5 %.4f  ndcg@10 %.4f  ndcg@25 %.4f  "
      "mrr@25 %.4f  coverage %.4f  (%zu users)\n",
      label, m.precision_at_5, m.precision_at_10, m.precision_at_25,
      m.normalized_discounted_cumulative_gain_at_5, m.normalized_discounted_cumulative_gain_at_10,
      m.normalized_discounted_cumulative_gain_at_25, m.mean_reciprocal_rank_at_25, m.coverage,
      m.users_evaluated);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::cerr
        << "usage: " << argv[0]
        << " INTERACTIONS.csv [--recipe NAME]... [--params JSON] [--split held-out|latest]"
           " [--threads N] [--seed N] [--no-metrics] [--recommend-all] [--batch] [--batch-runs N]"
           " [--latency N] [--filter EXPR]\n";
    return 2;
  }
  std::vector<std::string> recipes;
  std::string params = "{}";
  tailor::TrainOptions options;
  bool recommend_all = false;
  bool batch = false;
  std::size_t batch_runs = 3;
  std::size_t latency_requests = 0;
  std::string filter;
  for (int a = 2; a < argc; ++a) {
    std::string arg = argv[a];
    auto value = [&]() -> std::string {
      if (a + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++a];
    };
    if (arg == "--recipe")
      recipes.push_back(value());
    else if (arg == "--params")
      params = value();
    else if (arg == "--threads")
      options.execution.num_threads = std::stoi(value());
    else if (arg == "--seed")
      options.execution.seed = std::stoull(value());
    else if (arg == "--no-metrics")
      options.compute_metrics = false;
    else if (arg == "--recommend-all")
      recommend_all = true;
    else if (arg == "--batch")
      batch = true;
    else if (arg == "--batch-runs")
      batch_runs = std::max<std::size_t>(1, std::stoul(value()));
    else if (arg == "--latency")
      latency_requests = std::stoul(value());
    else if (arg == "--filter")
      filter = value();
    else if (arg == "--split") {
      std::string s = value();
      options.evaluation.split =
          s == "latest" ? tailor::SplitKind::LatestPerUser : tailor::SplitKind::HeldOutUsers;
    } else {
      throw std::runtime_error("unknown option " + arg);
    }
  }
  if (recipes.empty()) recipes = {"user-personalization", "sims"};

  const char* schema = R"({"type":"record","name":"Interactions","fields":[
    {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
    {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":["null","string"]},
    {"name":"EVENT_VALUE","type":["null","float"]}]})";
  tailor::DatasetGroup group(tailor::Schema::parse(schema, tailor::DatasetKind::Interactions));
  auto t = std::chrono::steady_clock::now();
  tailor::ImportOptions import;
  import.execution = options.execution;
  tailor::ImportReport report =
      group.import_csv(tailor::DatasetKind::Interactions, argv[1], import);
  std::printf("import: %zu rows, %u users, %u items in %.3f s\n", report.rows_imported,
              group.user_ids().size(), group.item_ids().size(), seconds_since(t));
  if (!report.ok()) {
    std::cerr << report.summary() << "\n";
    return 1;
  }
  for (const std::string& recipe : recipes) {
    tailor::Solution solution({recipe, recipe, params, {}});
    std::vector<double> sweep_times;
    double last = 0;
    options.progress = [&](const tailor::TrainingProgress& p) {
      if (p.stage == "als") {
        sweep_times.push_back(p.elapsed_seconds - (p.iteration == 1 ? 0 : last));
        last = p.elapsed_seconds;
      }
    };
    t = std::chrono::steady_clock::now();
    tailor::SolutionVersion version = solution.train(group, options);
    std::printf("%s: trained in %.3f s (%s), params %s\n", recipe.c_str(), seconds_since(t),
                options.compute_metrics ? "split model + final model" : "final model only",
                solution.recipe().params_json().c_str());
    if (!sweep_times.empty()) {
      // The last model's sweeps: the final fit.
      const std::size_t iterations =
          static_cast<std::size_t>(tailor::AlsParams::from_json(params).iterations);
      double fit = 0;
      for (std::size_t k = sweep_times.size() - iterations; k < sweep_times.size(); ++k)
        fit += sweep_times[k];
      std::printf("  final fit %.3f s, %.3f s per iteration\n", fit,
                  fit / static_cast<double>(iterations));
    }
    if (recommend_all) {
      // Each user's history, for exclusion.
      const tailor::Interactions& in = group.interactions();
      std::vector<std::vector<tailor::Index>> history(group.user_ids().size());
      for (std::size_t r = 0; r < in.size(); ++r) history[in.users()[r]].push_back(in.items()[r]);
      const unsigned threads = options.execution.num_threads > 0
                                   ? static_cast<unsigned>(options.execution.num_threads)
                                   : std::thread::hardware_concurrency();
      const tailor::Model& model = *version.model();
      t = std::chrono::steady_clock::now();
      std::vector<std::thread> workers;
      for (unsigned w = 0; w < threads; ++w) {
        workers.emplace_back([&, w] {
          std::vector<tailor::ScoredItem> out;
          for (tailor::Index u = w; u < history.size(); u += threads) {
            tailor::UserQuery q;
            q.user = u;
            q.history = history[u];
            tailor::ItemMask mask;
            mask.excluded = history[u];
            model.recommend(q, 25, mask, out);
          }
        });
      }
      for (std::thread& w : workers) w.join();
      const double s = seconds_since(t);
      std::printf("  recommend-all: %zu users in %.3f s, %.0f users/s (%u threads)\n",
                  history.size(), s, static_cast<double>(history.size()) / s, threads);
    }
    if (batch) time_batch(group, solution, version, options.execution, batch_runs);
    if (latency_requests > 0) time_requests(group, solution, version, latency_requests, filter);
    if (version.metrics()) {
      print_metrics(recipe.c_str(), *version.metrics());
      print_metrics("popularity-count", *version.baseline_metrics());
    }
  }
  std::printf("peak memory: %.1f MiB\n", static_cast<double>(peak_rss_kib()) / 1024.0);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
