// SPDX-License-Identifier: MIT
// recommend_all: many recommendation requests answered at once for batch jobs; a model with a
// block scorer scores the users of whole-catalog requests in blocks, per pass over its items.
#include <algorithm>
#include <optional>

#include "detail/parallel.hpp"
#include "detail/topk.hpp"
#include "serving/campaign_impl.hpp"
#include "serving/softmax.hpp"
#include "tailor/error.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {

namespace {
// Records a failed request in its result, as get_recommendations() would have thrown it.
void fail(RecommendationResult& result) {
  try {
    throw;
  } catch (const Error& e) {
    result.error = e.code();
    result.message = e.what();
  } catch (const std::exception& e) {
    result.error = ErrorCode::Internal;
    result.message = e.what();
  }
  result.response = {};
}
}  // namespace

std::vector<RecommendationResult> recommend_all(const Campaign& campaign,
                                                const std::vector<RecommendationRequest>& requests,
                                                const ExecutionOptions& execution) {
  const std::size_t n = requests.size();
  std::vector<RecommendationResult> out(n);
  const Campaign::Impl& impl = campaign.impl();
  const std::shared_ptr<const Campaign::Impl::Snapshot> snap = impl.snapshot();
  const BlockScorer* blocks_of = snap->version->model()->block_scorer();
  const int threads = detail::resolve_threads(execution.num_threads);

  // Resolve every request (ids, histories, filters), in parallel.
  std::vector<std::optional<Campaign::Impl::Resolved>> resolved(n);
  detail::parallel_for(n, threads, [&](std::size_t k) {
    try {
      resolved[k] = impl.resolve(requests[k], *snap);
    } catch (const std::exception&) {
      fail(out[k]);
    }
  });
  // Requests the model scores against the whole catalog go to its block scorer, when it has one:
  // blocks of users per pass over its items (for ALS, S = U Yᵀ as matrix products: exhaustive
  // scoring is ~f·items flops a user; GEMM runs near the machine's peak where one GEMV per user
  // is bound by memory).
  std::vector<std::size_t> dense;
  for (std::size_t k = 0; k < n; ++k) {
    if (resolved[k] && blocks_of && snap->softmax_scores && !requests[k].promotion &&
        Campaign::Impl::dense_scoring(requests[k], *snap, *resolved[k])) {
      dense.push_back(k);
    }
  }
  auto answer = [&](std::size_t k, const Campaign::Impl::Ranked* ranked) {
    try {
      out[k].response = impl.respond(requests[k], *snap, *resolved[k], ranked);
      impl.records_.record(requests[k], out[k].response);
    } catch (const std::exception&) {
      fail(out[k]);
    }
  };
  // Blocks of users times chunks of items. A chunk's item factors stay in the second-level cache
  // while every user of the block is scored against it, a group of users at a time by the
  // scorer's matrix-product kernel; the group's scores (kGroup × chunk floats, 128 KiB) stay in
  // that cache too while each row is folded into its user's running softmax normaliser and top-k.
  // The whole score matrix never exists.
  constexpr std::size_t kUsers = 512;
  constexpr std::size_t kGroup = 64;  // users a score_block() call: its tiles sweep them all
  // About 512 items a chunk, a multiple of the scorer's alignment: the chunk's factors (128 KiB
  // at 64 factors) and the group's scores fit together in a 512 KiB second-level cache.
  const Index align = blocks_of ? std::max<Index>(1, blocks_of->chunk_alignment()) : 1;
  const Index chunk = std::max<Index>(1, 512 / align) * align;
  const std::size_t blocks = (dense.size() + kUsers - 1) / kUsers;
  detail::parallel_for(blocks, threads, [&](std::size_t b) {
    const std::size_t begin = b * kUsers, end = std::min(dense.size(), begin + kUsers);
    const std::size_t count = end - begin;
    const std::size_t state_size = blocks_of->state_size();
    std::vector<float> states(count * state_size);
    std::vector<detail::TopK> heaps;
    std::vector<detail::LogSumExp> normalisers(count);
    for (std::size_t j = 0; j < count; ++j) {
      const Campaign::Impl::Resolved& r = *resolved[dense[begin + j]];
      const UserQuery q = Campaign::Impl::user_query(r, *snap, requests[dense[begin + j]].context);
      blocks_of->user_state(q, states.data() + j * state_size);
      // Room for the excluded items too: respond() drops them, and k others must remain.
      heaps.emplace_back(requests[dense[begin + j]].num_results + r.excluded.size());
    }
    const Index num_items = snap->version->model()->num_items();
    std::vector<float> scores(std::min(kGroup, count) * static_cast<std::size_t>(chunk));
    for (Index c0 = 0; c0 < num_items; c0 += chunk) {
      const Index c = std::min<Index>(chunk, num_items - c0);
      for (std::size_t g = 0; g < count; g += kGroup) {
        const std::size_t group = std::min(kGroup, count - g);
        blocks_of->score_block(states.data() + g * state_size, group, c0, c, scores.data(),
                               static_cast<std::size_t>(chunk));
        for (std::size_t j = g; j < g + group; ++j) {
          const float* row = scores.data() + (j - g) * static_cast<std::size_t>(chunk);
          // Running log-sum-exp over the whole catalog (the softmax normaliser).
          const float chunk_top = normalisers[j].add(row, static_cast<std::size_t>(c));
          // Running top-k among allowed items; equal scores keep the earlier item. A chunk
          // whose best score cannot enter a full heap is skipped whole.
          detail::TopK& heap = heaps[j];
          if (heap.full() && !(chunk_top > heap.worst())) continue;
          const Campaign::Impl::Resolved& r = *resolved[dense[begin + j]];
          heap.push_all(row, static_cast<std::size_t>(c), c0, r.allowed ? &*r.allowed : nullptr);
        }
      }
    }
    for (std::size_t j = 0; j < count; ++j) {
      Campaign::Impl::Ranked ranked;
      ranked.normaliser = normalisers[j].value();
      heaps[j].take_sorted(ranked.top);
      answer(dense[begin + j], &ranked);
    }
  });
  // Everything else (similar items, cold users, other recipes) one by one.
  std::vector<std::size_t> rest;
  for (std::size_t k = 0, d = 0; k < n; ++k) {
    if (d < dense.size() && dense[d] == k) {
      ++d;
    } else if (resolved[k]) {
      rest.push_back(k);
    }
  }
  detail::parallel_for(rest.size(), threads, [&](std::size_t j) { answer(rest[j], nullptr); });
  return out;
}

}  // namespace tailor
