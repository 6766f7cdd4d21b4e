// SPDX-License-Identifier: MIT
// libFuzzer target for HttpService's request handling (authentication, routing, JSON bodies,
// every endpoint) on a group of the sample data kept in memory, without sockets: any request must
// be answered with a status and a JSON body; nothing may crash, hang or throw.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "tailor/data/dataset_group.hpp"
#include "tailor/service/http_service.hpp"

namespace {

tailor::HttpService& service() {
  static const std::unique_ptr<tailor::HttpService> instance = [] {
    const std::string dir = std::string(TAILOR_SOURCE_DIR) + "/data/";
    using tailor::DatasetKind;
    using tailor::Schema;
    tailor::DatasetGroup g(
        Schema::load(dir + "interactions_schema.json", DatasetKind::Interactions),
        Schema::load(dir + "users_schema.json", DatasetKind::Users),
        Schema::load(dir + "items_schema.json", DatasetKind::Items));
    g.import_csv(DatasetKind::Interactions, dir + "interactions.csv");
    g.import_csv(DatasetKind::Users, dir + "users.csv");
    g.import_csv(DatasetKind::Items, dir + "items.csv");
    tailor::TrainOptions o;
    o.compute_metrics = false;
    tailor::SolutionVersion v = tailor::Solution({"pop", "popularity-count", "{}", {}}).train(g, o);
    auto group = std::make_shared<tailor::LiveDatasetGroup>(std::move(g));
    tailor::HttpServiceOptions options;
    options.log = [](const std::string&) {};
    auto s = std::make_unique<tailor::HttpService>(group, std::vector<tailor::SolutionVersion>{v},
                                                   options);
    // A filter for the requests to name.
    tailor::HttpRequest create{"POST", "/filters", "",
                               R"({"name":"blogs","filterExpression":"INCLUDE ItemID WHERE )"
                               R"J(Items.CONTENT_TYPE IN ($TYPES)"})J"};
    if (s->handle(create).status != 200) std::abort();
    return s;
  }();
  return *instance;
}

// The first byte picks the request line; the rest is the body.
const char* const kTargets[][2] = {{"POST", "/recommendations"}, {"POST", "/personalize-ranking"},
                                   {"POST", "/events"},          {"POST", "/users"},
                                   {"POST", "/items"},           {"POST", "/delete-users"},
                                   {"POST", "/delete-items"},    {"POST", "/filters"},
                                   {"GET", "/filters"},          {"DELETE", "/filters/blogs"},
                                   {"GET", "/solutions"},        {"GET", "/health"},
                                   {"GET", "/metrics"},          {"PUT", "/recommendations"}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  tailor::HttpRequest request;
  const std::size_t pick = data[0] % (sizeof kTargets / sizeof kTargets[0] + 1);
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (pick < sizeof kTargets / sizeof kTargets[0]) {
    request.method = kTargets[pick][0];
    request.target = kTargets[pick][1];
    request.body = std::move(rest);
  } else {  // "METHOD TARGET\nbody": the request line itself fuzzed
    const std::size_t space = rest.find(' '), line = rest.find('\n');
    if (space == std::string::npos || line == std::string::npos || space > line) return 0;
    request.method = rest.substr(0, space);
    request.target = rest.substr(space + 1, line - space - 1);
    request.body = rest.substr(line + 1);
  }
  const tailor::HttpResponse response = service().handle(request);
  if (response.status < 200 || response.status > 599 || response.body.empty()) std::abort();
  return 0;
}
