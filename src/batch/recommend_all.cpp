// SPDX-License-Identifier: MIT
// recommend_all: many recommendation requests answered at once for batch jobs; a model with a
// block scorer scores the users of whole-catalog requests in blocks, per pass over its items.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

#include "detail/parallel.hpp"
#include "detail/softmax_simd.hpp"
#include "detail/topk.hpp"
#include "recipes/als/ordered_catalog.hpp"
#include "serving/campaign_impl.hpp"
#include "serving/softmax.hpp"
#include "tailor/detail/bits.hpp"
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
// A user of a block: their request, how many items they rank (the request's results and its
// exclusions), the items they may get, and how far their approximate scores may be from the
// exact ones (exact: the user is scored by score_block()).
struct BlockUser {
  std::size_t request;
  std::size_t count;
  const Bitmap* allowed;
  ScoreBound bound;
};

// Users per score_block() or approximate_block() call: its tiles sweep them all.
constexpr std::size_t kExactGroup = 64;

// The exact ranking of `users` (their states consecutive rows of `states`): chunks of items, each
// scored for a group of users at a time, every row folded into its user's running softmax
// normaliser and top-k. ranked[j] gets user j's.
void rank_exact(const BlockScorer& scorer, const float* states, const std::vector<BlockUser>& users,
                Index num_items, Index chunk, std::vector<Campaign::Impl::Ranked>& ranked) {
  const std::size_t count = users.size(), state_size = scorer.state_size();
  std::vector<detail::TopK> heaps;
  for (const BlockUser& user : users) heaps.emplace_back(user.count);
  std::vector<detail::LogSumExp> normalisers(count);
  constexpr std::size_t kGroup = kExactGroup;
  std::vector<float> scores(std::min(kGroup, count) * static_cast<std::size_t>(chunk));
  for (Index c0 = 0; c0 < num_items && count > 0; c0 += chunk) {
    const Index c = std::min<Index>(chunk, num_items - c0);
    for (std::size_t g = 0; g < count; g += kGroup) {
      const std::size_t group = std::min(kGroup, count - g);
      scorer.score_block(states + g * state_size, group, c0, c, scores.data(),
                         static_cast<std::size_t>(chunk));
      for (std::size_t j = g; j < g + group; ++j) {
        const float* row = scores.data() + (j - g) * static_cast<std::size_t>(chunk);
        // Running log-sum-exp over the whole catalog (the softmax normaliser).
        const float chunk_top = normalisers[j].add(row, static_cast<std::size_t>(c));
        // Running top-k among allowed items; equal scores keep the earlier item. A chunk
        // whose best score cannot enter a full heap is skipped whole.
        detail::TopK& heap = heaps[j];
        if (heap.full() && !(chunk_top > heap.worst())) continue;
        heap.push_all(row, static_cast<std::size_t>(c), c0, users[j].allowed);
      }
    }
  }
  ranked.assign(count, {});
  for (std::size_t j = 0; j < count; ++j) {
    ranked[j].normaliser = normalisers[j].value();
    heaps[j].take_sorted(ranked[j].top);
  }
}

// One user's candidates while the approximate scores of the catalog stream past: the `count` best
// lower bounds so far (a min-heap; the worst of them, once there are `count`, is a score the
// user's count-th best exact score reaches), and the items whose upper bounds reached it when
// they came, with their approximate scores.
// `seed`: the smallest lower bound of `count` items of one row, the best by approximate score,
// taken before that row's items join (so that the first rows do not make every item a
// candidate); the heap reaches it once they have joined, so it is a threshold too.
struct Candidates {
  std::vector<double> lower;
  std::vector<ScoredItem> items;
  double seed = -std::numeric_limits<double>::infinity();
  double threshold() const {
    return count > 0 && lower.size() == count ? std::max(seed, lower.front()) : seed;
  }
  std::size_t count = 0;
};

// The ranking of `users` from approximate scores, as a single request ranks
// (detail::top_k_within): approximate scores of every chunk for a group of users at a time
// (approximate_block()), each row folded into its user's softmax normaliser and candidates; at the
// end the candidates whose upper bounds reach the count-th best lower bound are scored exactly
// (score_items()) and ranked. Every item of the exact top `count` is among them, so the items,
// their order and their scores are those of rank_exact(). The normaliser is the log-sum-exp of
// the approximate scores with the candidates' terms made exact (detail::Normaliser), as a
// single request's: within the largest bound of the exact one.
//
// Where the scorer has an ordered catalog (BlockScorer::ordered_catalog()), the chunks are its
// positions, longest factor vectors first, and a user stops (after a row where the catalog keeps
// a tail) once no item left can reach their top k (the catalog's score_limit() is below their
// threshold): the normaliser then takes the items left from the catalog's moments (tail_sum()),
// within half the user's largest bound relatively, so the whole stays within that bound. Candidates
// are kept by position.
void rank_approximate(const BlockScorer& scorer, const float* states,
                      const float* approximate_states, const std::vector<BlockUser>& users,
                      Index num_items, Index chunk, std::vector<Campaign::Impl::Ranked>& ranked) {
  const std::size_t count = users.size(), state_size = scorer.state_size();
  const std::size_t approximate_size = scorer.approximate_state_size();
  const detail::OrderedCatalog* catalog = scorer.ordered_catalog();
  const Index positions = catalog ? catalog->size() : num_items;
  auto item_at = [&](Index position) { return catalog ? catalog->items()[position] : position; };
  auto radii_of = [&](const ScoreBound& bound) {
    return catalog ? catalog->radii().data() : bound.radii;
  };
  auto radius_at = [&](const ScoreBound& bound, Index position) {
    return catalog ? bound.scale * catalog->radii()[position] : bound.of(position);
  };
  // Compact item factors are a quarter of float32's bytes or less: four times the items a chunk
  // (a quarter of the rows, each with its fixed cost per user, the same factor bytes), and a
  // quarter of the users a group for the same scores (128 KiB). An ordered catalog's rows are
  // the steps between its tails, as many.
  const Index exact_chunk = chunk;
  chunk = catalog ? catalog->step() : chunk * 4;
  constexpr std::size_t kGroup = kExactGroup / 4;
  std::vector<Candidates> candidates(count);
  std::vector<detail::Normaliser> normalisers(count);
  for (std::size_t j = 0; j < count; ++j) candidates[j].count = users[j].count;
  std::vector<float> scores(std::min(kGroup, count) * static_cast<std::size_t>(chunk));
  std::vector<Index> above;
  // Whole 64-bit words of hits, zero past the row's last.
  std::vector<std::uint16_t> hits((static_cast<std::size_t>(chunk) + 63) / 64 * 4);
  const detail::SoftmaxSimd& softmax = detail::softmax_simd();
  // The users still scanning, and a group's approximate states side by side.
  std::vector<std::size_t> active(count);
  for (std::size_t j = 0; j < count; ++j) active[j] = j;
  std::vector<float> group_states(std::min(kGroup, count) * approximate_size);
  std::vector<std::uint32_t> group_words(group_states.size());
  // Whether user j's scan (of an ordered catalog) stops at position `next`: when no item from
  // there on can reach the user's top k, and the sum of the items' terms from the catalog's
  // moments is within half the user's largest bound relatively (then the log of the whole sum is
  // within that bound: |log(1 + ρ)| ≤ 2|ρ| for |ρ| ≤ 1/2), that sum joins the normaliser.
  //
  // A threshold from lower bounds is loose where it matters: the best items have the longest
  // vectors and so the widest bounds. So a user whose limit is not below it has their candidates
  // scored exactly, and the count-th best exact score, which `count` allowed items reach, becomes
  // their seed: a stop it allows is as safe, and comes rows earlier for most users who go on.
  std::vector<Index> ids;
  std::vector<float> exact;
  auto exact_seed = [&](std::size_t j) {
    Candidates& user = candidates[j];
    if (user.items.size() < user.count) return;
    ids.clear();
    for (const ScoredItem& s : user.items) ids.push_back(item_at(s.item));
    exact.resize(ids.size());
    scorer.score_items(states + j * state_size, ids, exact.data());
    std::nth_element(exact.begin(), exact.begin() + static_cast<std::ptrdiff_t>(user.count - 1),
                     exact.end(), std::greater<float>());
    user.seed = std::max(user.seed, static_cast<double>(exact[user.count - 1]));
  };
  auto stops = [&](std::size_t j, Index next) {
    const Candidates& user = candidates[j];
    const float* state = states + j * state_size;
    if (user.count > 0) {
      const double limit = catalog->score_limit(state, next);
      if (!(limit < user.threshold())) {
        exact_seed(j);
        if (!(limit < user.threshold())) return false;
      }
    }
    const double largest = static_cast<double>(users[j].bound.scale) * catalog->max_radius();
    double tail = 0;
    if (!catalog->tail_sum(state, next, std::min(0.5, largest / 2), &tail)) return false;
    detail::LogSumExp& lse = normalisers[j].lse;
    if (lse.top == -std::numeric_limits<double>::infinity()) {
      lse.top = 0;
      lse.sum = tail;
    } else {
      lse.sum += tail * std::exp(-lse.top);
    }
    return true;
  };
  for (Index c0 = 0; c0 < positions && !active.empty(); c0 += chunk) {
    const Index c = std::min<Index>(chunk, positions - c0);
    for (std::size_t g = 0; g < active.size(); g += kGroup) {
      const std::size_t group = std::min(kGroup, active.size() - g);
      // The states are opaque floats; an ordered catalog reads them as the quantised users'
      // words.
      void* gathered = catalog ? static_cast<void*>(group_words.data()) : group_states.data();
      for (std::size_t jj = 0; jj < group; ++jj) {
        std::memcpy(static_cast<char*>(gathered) + jj * approximate_size * sizeof(float),
                    approximate_states + active[g + jj] * approximate_size,
                    approximate_size * sizeof(float));
      }
      if (catalog) {
        catalog->approximate_block(group_words.data(), group, c0, c, scores.data(),
                                   static_cast<std::size_t>(chunk));
      } else {
        scorer.approximate_block(group_states.data(), group, c0, c, scores.data(),
                                 static_cast<std::size_t>(chunk));
      }
      for (std::size_t jj = 0; jj < group; ++jj) {
        const std::size_t j = active[g + jj];
        const float* row = scores.data() + jj * static_cast<std::size_t>(chunk);
        Candidates& user = candidates[j];
        const ScoreBound& bound = users[j].bound;
        const Bitmap* allowed = users[j].allowed;
        // The softmax normaliser's running log-sum-exp (detail::LogSumExp::add, its sum kept
        // relative to the largest score so far), and the items whose upper bounds reach the
        // threshold, in one pass over the row (SoftmaxSimd::fold_row). The upper bounds are
        // summed in float, within a relative 2^−24 of the exact sums: a threshold lowered by
        // more misses none, and each item found is checked again in double.
        detail::LogSumExp& lse = normalisers[j].lse;
        if (lse.top == -std::numeric_limits<double>::infinity()) {
          // The first row with a score: the sum starts relative to its largest.
          const float first = softmax.max(row, static_cast<std::size_t>(c));
          if (!(first > -std::numeric_limits<float>::infinity())) continue;
          lse.top = first;
        }
        if (user.count > 0 && user.lower.size() < user.count) {
          detail::TopK best(user.count);
          if (!catalog || !allowed) {
            best.push_all(row, static_cast<std::size_t>(c), c0, allowed);
          } else {
            for (Index i = 0; i < c; ++i) {
              const Index item = item_at(c0 + i);
              if (item < allowed->size() && allowed->test(item)) best.push(c0 + i, row[i]);
            }
          }
          if (best.full()) {
            double seed = std::numeric_limits<double>::infinity();
            for (const ScoredItem& s : best.items()) {
              seed = std::min(seed, static_cast<double>(s.score) -
                                        static_cast<double>(radius_at(bound, s.item)));
            }
            user.seed = std::max(user.seed, seed);
          }
        }
        // t − 2·margin rounds to a float at most t − margin: its rounding is under 2^−24 of it.
        const double t = user.threshold();
        const double margin = (std::abs(t) + static_cast<double>(bound.max())) * 0x1p-20;
        const float at_least = user.count == 0 ? std::numeric_limits<float>::infinity()
                                               : static_cast<float>(t - 2 * margin);
        std::fill(hits.begin() + (c + 15) / 16, hits.end(), std::uint16_t{0});
        // The terms relative to the largest score so far (each below e^88 unless the row's
        // largest is further above it, then again relative to that), then the sum kept relative
        // to the new largest.
        float row_top = 0;
        float shift = static_cast<float>(lse.top);
        float sum = softmax.fold_row(row, static_cast<std::size_t>(c), shift, radii_of(bound) + c0,
                                     bound.scale, at_least, hits.data(), &row_top);
        if (row_top > shift + 80.0f) {
          shift = row_top;
          sum = softmax.fold_row(row, static_cast<std::size_t>(c), shift, radii_of(bound) + c0,
                                 bound.scale, at_least, hits.data(), &row_top);
        }
        if (static_cast<double>(shift) == lse.top && !(row_top > shift)) {
          lse.sum += static_cast<double>(sum);
        } else {
          const double largest = std::max(lse.top, static_cast<double>(row_top));
          lse.sum = lse.sum * std::exp(lse.top - largest) +
                    static_cast<double>(sum) * std::exp(static_cast<double>(shift) - largest);
          lse.top = largest;
        }
        if (user.count == 0) continue;
        above.clear();
        // Four words of hits at a time (the row's last ones are zero past it).
        for (std::size_t h = 0; h < hits.size(); h += 4) {
          std::uint64_t bits;
          std::memcpy(&bits, &hits[h], sizeof bits);
          for (; bits != 0; bits &= bits - 1) {
            above.push_back(static_cast<Index>(h * 16 + detail::countr_zero64(bits)));
          }
        }
        for (Index i : above) {
          const Index position = c0 + i, item = item_at(position);
          if (allowed && !(item < allowed->size() && allowed->test(item))) continue;
          const double a = row[i], radius = radius_at(bound, position);
          if (a + radius < user.threshold()) continue;
          user.items.push_back({position, row[i]});
          // The lower bound joins the count best.
          if (user.lower.size() < user.count) {
            user.lower.push_back(a - radius);
            std::push_heap(user.lower.begin(), user.lower.end(), std::greater<double>());
          } else if (a - radius > user.lower.front()) {
            std::pop_heap(user.lower.begin(), user.lower.end(), std::greater<double>());
            user.lower.back() = a - radius;
            std::push_heap(user.lower.begin(), user.lower.end(), std::greater<double>());
          }
        }
        // Candidates that fell below the risen threshold go, now and then.
        if (user.items.size() > 4 * user.count + 256) {
          const double now = user.threshold();
          user.items.erase(
              std::remove_if(user.items.begin(), user.items.end(),
                             [&](const ScoredItem& s) {
                               return static_cast<double>(s.score) +
                                          static_cast<double>(radius_at(bound, s.item)) <
                                      now;
                             }),
              user.items.end());
        }
      }
    }
    // Users whose top k no item left can reach stop here, their normalisers completed from the
    // moments of the items left.
    const Index next = c0 + c;
    if (!catalog || next >= positions || !catalog->stops_at(next)) continue;
    active.erase(
        std::remove_if(active.begin(), active.end(), [&](std::size_t j) { return stops(j, next); }),
        active.end());
  }
  ranked.assign(count, {});
  std::vector<Index> items;
  for (std::size_t j = 0; j < count; ++j) {
    Candidates& user = candidates[j];
    const ScoreBound& bound = users[j].bound;
    const double t = user.threshold();
    items.clear();
    for (const ScoredItem& s : user.items) {
      if (static_cast<double>(s.score) + static_cast<double>(radius_at(bound, s.item)) >= t)
        items.push_back(s.item);
    }
    const float* state = states + j * state_size;
    std::vector<ScoredItem>& top = ranked[j].top;
    if (items.size() > static_cast<std::size_t>(num_items) / 4) {
      // Near-ties over a large part of the catalog: all of it exactly in one pass, cheaper than
      // item by item.
      exact.resize(static_cast<std::size_t>(num_items));
      std::vector<float> row(static_cast<std::size_t>(exact_chunk));
      detail::TopK heap(user.count);
      detail::LogSumExp lse;
      for (Index c0 = 0; c0 < num_items; c0 += exact_chunk) {
        const Index c = std::min<Index>(exact_chunk, num_items - c0);
        scorer.score_block(state, 1, c0, c, row.data(), row.size());
        lse.add(row.data(), static_cast<std::size_t>(c));
        heap.push_all(row.data(), static_cast<std::size_t>(c), c0, users[j].allowed);
      }
      heap.take_sorted(top);
      ranked[j].normaliser = lse.value();
      continue;
    }
    ids.resize(items.size());
    for (std::size_t k = 0; k < items.size(); ++k) ids[k] = item_at(items[k]);
    exact.resize(items.size());
    scorer.score_items(state, ids, exact.data());
    // Candidates as they came, a subsequence of user.items; the sort's ties keep the lower index.
    top.resize(items.size());
    std::size_t s = 0;
    for (std::size_t k = 0; k < items.size(); ++k) {
      while (user.items[s].item != items[k]) ++s;
      top[k] = {ids[k], exact[k]};
      normalisers[j].set_exact(ids[k], user.items[s].score, exact[k]);
    }
    const std::size_t keep = std::min(user.count, top.size());
    std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                      detail::better);
    top.resize(keep);
    ranked[j].normaliser = normalisers[j].lse.value();
  }
}

// About 512 items a chunk of exact block scores, a multiple of the scorer's alignment: the chunk's
// factors (128 KiB at 64 factors) and a group's scores fit together in a 512 KiB second-level
// cache.
Index exact_chunk_of(const BlockScorer& scorer) {
  const Index align = std::max<Index>(1, scorer.chunk_alignment());
  return std::max<Index>(1, 512 / align) * align;
}

}  // namespace

namespace detail {

bool rank_by_blocks(const Campaign::Impl::Snapshot& snap, const RecommendationRequest& request,
                    const Campaign::Impl::Resolved& r, RankedCatalog& out) {
  const Model& model = *snap.version->model();
  const BlockScorer* scorer = model.block_scorer();
  if (!scorer || !snap.softmax_scores || request.promotion || r.content ||
      !Campaign::Impl::dense_scoring(request, snap, r) || scorer->approximate_state_size() == 0 ||
      !scorer->ordered_catalog()) {
    return false;
  }
  std::vector<float> state(scorer->state_size()), approximate(scorer->approximate_state_size());
  scorer->user_state(Campaign::Impl::user_query(r, snap, request.context), state.data());
  const ScoreBound bound = scorer->approximate_state(state.data(), approximate.data());
  if (bound.exact()) return false;
  // Room for the excluded items too: respond() drops them, and k others must remain.
  const std::vector<BlockUser> users = {
      {0, request.num_results + r.excluded.size(), r.allowed ? &*r.allowed : nullptr, bound}};
  std::vector<Campaign::Impl::Ranked> ranked;
  rank_approximate(*scorer, state.data(), approximate.data(), users, model.num_items(),
                   exact_chunk_of(*scorer), ranked);
  out = std::move(ranked.front());
  return true;
}

}  // namespace detail

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
  const Index chunk = blocks_of ? exact_chunk_of(*blocks_of) : 1;
  const Index num_items = snap->version->model()->num_items();
  const std::size_t approximate_size = blocks_of ? blocks_of->approximate_state_size() : 0;
  // At most kUsers a block, as many blocks as a multiple of the threads, all of one size (±1):
  // the threads then finish together, where a short last block would leave all but one idle. But
  // at least a group of users a block (kExactGroup), unless there are fewer: every block streams
  // the whole catalog, and a few users a block would each pay for it nearly alone.
  const std::size_t ways = static_cast<std::size_t>(std::max(threads, 1));
  const std::size_t blocks = std::min((dense.size() + kUsers * ways - 1) / (kUsers * ways) * ways,
                                      std::max<std::size_t>(1, dense.size() / kExactGroup));
  detail::parallel_for(blocks, threads, [&](std::size_t b) {
    const std::size_t begin = dense.size() * b / blocks, end = dense.size() * (b + 1) / blocks;
    const std::size_t state_size = blocks_of->state_size();
    // The users of the block with approximate states, and the others.
    std::vector<float> states, approximate_states, exact_states;
    std::vector<BlockUser> approximate_users, exact_users;
    std::vector<float> state(state_size), approximate(approximate_size);
    for (std::size_t d = begin; d < end; ++d) {
      const Campaign::Impl::Resolved& r = *resolved[dense[d]];
      const UserQuery q = Campaign::Impl::user_query(r, *snap, requests[dense[d]].context);
      blocks_of->user_state(q, state.data());
      // Room for the excluded items too: respond() drops them, and k others must remain.
      BlockUser user{dense[d],
                     requests[dense[d]].num_results + r.excluded.size(),
                     r.allowed ? &*r.allowed : nullptr,
                     {}};
      if (approximate_size > 0) {
        user.bound = blocks_of->approximate_state(state.data(), approximate.data());
      }
      if (!user.bound.exact()) {
        approximate_states.insert(approximate_states.end(), approximate.begin(), approximate.end());
        states.insert(states.end(), state.begin(), state.end());
        approximate_users.push_back(user);
      } else {
        exact_states.insert(exact_states.end(), state.begin(), state.end());
        exact_users.push_back(user);
      }
    }
    std::vector<Campaign::Impl::Ranked> ranked;
    rank_exact(*blocks_of, exact_states.data(), exact_users, num_items, chunk, ranked);
    for (std::size_t j = 0; j < exact_users.size(); ++j) answer(exact_users[j].request, &ranked[j]);
    rank_approximate(*blocks_of, states.data(), approximate_states.data(), approximate_users,
                     num_items, chunk, ranked);
    for (std::size_t j = 0; j < approximate_users.size(); ++j) {
      answer(approximate_users[j].request, &ranked[j]);
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
