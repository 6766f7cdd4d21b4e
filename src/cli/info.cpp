// SPDX-License-Identifier: MIT
// tailor info: the datasets and solutions of a dataset group.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <tuple>

#include "cli/commands.hpp"
#include "io/json.hpp"
#include "tailor/kernels.hpp"

namespace tailor::cli {
namespace {

using tailor::detail::append_json_string;

std::string utc_time(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

// info's "solutions": [{"name","recipe","active","versions":[{"id","createdAt","trainingMode",
// "ranks","metrics"}]}] (ranks: the MPI ranks that trained it), versions oldest first; the recipe
// is the active version's.
std::string solutions_json(const Store& store) {
  std::string out = "[";
  for (const auto& name : store.solutions()) {
    const auto versions = store.versions(name);
    const std::string active = store.active_version(name);
    std::string recipe;
    for (const auto& v : versions) {
      if (v.id == active) recipe = v.recipe;
    }
    if (out.size() > 1) out += ",";
    out += "{\"name\":";
    append_json_string(out, name);
    out += ",\"recipe\":";
    append_json_string(out, recipe);
    out += ",\"active\":";
    append_json_string(out, active);
    out += ",\"versions\":[";
    for (std::size_t k = 0; k < versions.size(); ++k) {
      if (k) out += ",";
      out += "{\"id\":";
      append_json_string(out, versions[k].id);
      out += ",\"createdAt\":" + std::to_string(versions[k].created_at) + ",\"trainingMode\":\"" +
             training_mode_name(versions[k].mode) +
             "\",\"ranks\":" + std::to_string(versions[k].training_ranks) +
             ",\"metrics\":" + metrics_json(versions[k].metrics);
      // The hyperparameter search that chose the version's configuration, with its history.
      if (!versions[k].hpo_json.empty()) out += ",\"hpo\":" + versions[k].hpo_json;
      out += "}";
    }
    out += "]}";
  }
  return out + "]";
}

void print_solutions(const Store& store) {
  const auto names = store.solutions();
  std::printf("solutions:%s\n", names.empty() ? " (none)" : "");
  for (const auto& name : names) {
    const std::string active = store.active_version(name);
    std::printf("  %s\n", name.c_str());
    for (const auto& v : store.versions(name)) {
      std::printf("    %s  %s  %-24s %-6s ", v.id == active ? "*" : " ", v.id.c_str(),
                  v.recipe.c_str(), training_mode_name(v.mode).c_str());
      std::printf("%s  ", utc_time(v.created_at).c_str());
      if (v.training_ranks > 1) std::printf("%d ranks  ", v.training_ranks);
      if (v.metrics) {
        std::printf("ndcg@10 %.4f%s\n", v.metrics->normalized_discounted_cumulative_gain_at_10,
                    v.hpo_json.empty() ? "" : "  (tuned)");
      } else {
        std::printf("no metrics\n");
      }
    }
  }
  if (!names.empty()) std::printf("  (* the active version)\n");
}

int run_info(const Common& common) {
  auto store = open_store(common, StoreAccess::ReadOnly);
  auto counts = store->group()->read([](const DatasetGroup& g) {
    return std::make_tuple(
        g.rows(DatasetKind::Interactions), g.rows(DatasetKind::Users), g.rows(DatasetKind::Items),
        g.user_ids().size() - g.user_ids().erased_count(),  // deleted ids are gone
        g.item_ids().size() - g.item_ids().erased_count());
  });
  if (common.json) {
    std::string out =
        "{\"datasets\":{\"interactions\":{\"rows\":" + std::to_string(std::get<0>(counts)) +
        "},\"users\":{\"rows\":" + std::to_string(std::get<1>(counts)) +
        "},\"items\":{\"rows\":" + std::to_string(std::get<2>(counts)) + "}},\"kernel_target\":\"" +
        std::string(kernel_target()) + "\",\"solutions\":";
    std::cout << out << solutions_json(*store) << "}\n";
  } else {
    std::printf(
        "interactions: %zu rows\nusers: %zu rows (%zu user ids)\nitems: %zu rows (%zu item ids)\n",
        std::get<0>(counts), std::get<1>(counts), static_cast<std::size_t>(std::get<3>(counts)),
        std::get<2>(counts), static_cast<std::size_t>(std::get<4>(counts)));
    std::printf("kernel target: %s\n", std::string(kernel_target()).c_str());
    print_solutions(*store);
  }
  return 0;
}

}  // namespace

void add_info(CLI::App& app, Common& common, Commands& commands) {
  CLI::App* cmd = add_command(app, common, "info", "datasets and solutions of a dataset group");
  commands.push_back({cmd, [&common] { return run_info(common); }});
}

}  // namespace tailor::cli
