// SPDX-License-Identifier: MIT
// Filter evaluation per request over a 50,000-item catalog: an item-metadata filter (cached and
// not), a parameterised one, and the user's read-history exclusion.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <tailor/tailor.hpp>

namespace {

const tailor::DatasetGroup& catalog() {
  static const tailor::DatasetGroup group = [] {
    tailor::DatasetGroup g(
        tailor::Schema::parse(R"({"type":"record","name":"Interactions","fields":[
          {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
          {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}]})",
                              tailor::DatasetKind::Interactions),
        std::nullopt,
        tailor::Schema::parse(R"({"type":"record","name":"Items","fields":[
          {"name":"ITEM_ID","type":"string"},{"name":"GENRE","type":"string","categorical":true},
          {"name":"PRICE","type":"double"}]})",
                              tailor::DatasetKind::Items));
    std::mt19937 rng(1);
    std::string items = "ITEM_ID,GENRE,PRICE\n";
    for (int i = 0; i < 50000; ++i) {
      items += "i" + std::to_string(i) + ",g" + std::to_string(rng() % 40) + "|g" +
               std::to_string(rng() % 40) + "," + std::to_string(rng() % 1000) + "\n";
    }
    std::string events = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
    for (int k = 0; k < 300; ++k) {
      events += "u1,i" + std::to_string(rng() % 50000) + "," + std::to_string(k) +
                (k % 3 ? ",read\n" : ",like\n");
    }
    g.import_csv_text(tailor::DatasetKind::Items, items);
    g.import_csv_text(tailor::DatasetKind::Interactions, events);
    return g;
  }();
  return group;
}

void run(benchmark::State& state, const char* expression, const tailor::FilterValues& values) {
  const tailor::DatasetGroup& g = catalog();
  tailor::Filter f = tailor::Filter::compile(expression, g);
  tailor::FilterRequest r;
  r.user = g.user_ids().find("u1");
  r.values = &values;
  for (auto _ : state) benchmark::DoNotOptimize(f.evaluate(g, r));
}

void BM_FilterItemsCached(benchmark::State& state) {
  run(state, R"(INCLUDE ItemID WHERE Items.GENRE IN ("g1", "g2") AND Items.PRICE < 500)", {});
}
void BM_FilterItemsParameter(benchmark::State& state) {
  run(state, R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))", {{"G", {"g1", "g2", "g3"}}});
}
void BM_FilterPriceParameter(benchmark::State& state) {
  run(state, R"(INCLUDE ItemID WHERE Items.PRICE < $P)", {{"P", {"500"}}});
}
void BM_FilterExcludeRead(benchmark::State& state) {
  run(state, R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))", {});
}
void BM_FilterCombined(benchmark::State& state) {
  run(state,
      R"(INCLUDE ItemID WHERE Items.GENRE IN ($G) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*"))",
      {{"G", {"g7"}}});
}
BENCHMARK(BM_FilterItemsCached)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterItemsParameter)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterPriceParameter)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterExcludeRead)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterCombined)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
