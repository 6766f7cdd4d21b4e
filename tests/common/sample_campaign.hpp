// SPDX-License-Identifier: MIT
// The sample data as a live group, and a campaign of one recipe trained on it, for the serving
// tests.
#pragma once

#include <memory>

#include "common/sample.hpp"
#include "tailor/serving/campaign.hpp"
#include "tailor/serving/live_group.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor::test {

inline std::shared_ptr<LiveDatasetGroup> sample_live_group() {
  return std::make_shared<LiveDatasetGroup>(sample_group());
}

/// A campaign serving `recipe` (a solution of the same name) trained on `group`, without metrics.
inline std::unique_ptr<Campaign> make_campaign(const std::shared_ptr<LiveDatasetGroup>& group,
                                               const char* recipe, const char* params = "{}") {
  Solution solution({recipe, recipe, params, {}});
  TrainOptions o;
  o.compute_metrics = false;
  SolutionVersion v = group->read([&](const DatasetGroup& g) { return solution.train(g, o); });
  return std::make_unique<Campaign>(group, solution, std::move(v));
}

}  // namespace tailor::test
