// SPDX-License-Identifier: MIT
// item-kNN kernel: per item, accumulate co-occurrence over its users' histories into a dense
// per-thread array (touched entries tracked, so clearing costs what was touched), then keep the
// top neighbours with a heap.
#include "recipes/item_knn/item_knn_kernels.hpp"

#include <cmath>

#include "detail/parallel.hpp"
#include "detail/topk.hpp"

namespace tailor::detail {

NeighborLists item_neighbors(const CsrView& by_item, const CsrView& by_user,
                             const KnnKernelArgs& args) {
  const Index items = by_item.rows;
  std::vector<double> norm(items, 0.0);  // ‖w_j‖
  for (Index j = 0; j < items; ++j) {
    double s = 0;
    for (std::size_t e = by_item.offsets[j]; e < by_item.offsets[j + 1]; ++e) {
      s += static_cast<double>(by_item.values[e]) * by_item.values[e];
    }
    norm[j] = std::sqrt(s);
  }
  std::vector<double> discount(items);  // ‖w_j‖^(2d)
  for (Index j = 0; j < items; ++j) discount[j] = std::pow(norm[j], 2.0 * args.popularity_discount);

  const int threads = resolve_threads(args.threads);
  struct Scratch {
    std::vector<float> acc;
    std::vector<std::uint32_t> count;
    std::vector<Index> touched;
  };
  std::vector<Scratch> scratch(static_cast<std::size_t>(threads));
  std::vector<std::vector<ScoredItem>> lists(items);
  parallel_for(items, threads, [&](std::size_t i) {
    Scratch& s = scratch[static_cast<std::size_t>(thread_index())];
    if (s.acc.empty()) {
      s.acc.assign(items, 0.0f);
      s.count.assign(items, 0);
    }
    for (std::size_t e = by_item.offsets[i]; e < by_item.offsets[i + 1]; ++e) {
      const Index u = by_item.indices[e];
      const float wi = by_item.values[e];
      for (std::size_t f = by_user.offsets[u]; f < by_user.offsets[u + 1]; ++f) {
        const Index j = by_user.indices[f];
        if (s.count[j]++ == 0) s.touched.push_back(j);
        s.acc[j] += wi * by_user.values[f];
      }
    }
    TopK heap(static_cast<std::size_t>(args.neighbors));
    const double ni = norm[i];
    for (Index j : s.touched) {
      if (j != i && s.count[j] >= static_cast<std::uint32_t>(args.min_cointeractions) && ni > 0 &&
          discount[j] > 0) {
        heap.push(j, static_cast<float>(s.acc[j] / (ni * discount[j])));
      }
      s.acc[j] = 0.0f;
      s.count[j] = 0;
    }
    s.touched.clear();
    heap.take_sorted(lists[i]);
  });

  NeighborLists out;
  out.offsets.assign(static_cast<std::size_t>(items) + 1, 0);
  for (Index i = 0; i < items; ++i) out.offsets[i + 1] = out.offsets[i] + lists[i].size();
  out.items.reserve(out.offsets.back());
  out.similarities.reserve(out.offsets.back());
  for (const auto& list : lists) {
    for (const ScoredItem& n : list) {
      out.items.push_back(n.item);
      out.similarities.push_back(n.score);
    }
  }
  return out;
}

}  // namespace tailor::detail
