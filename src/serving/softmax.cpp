// SPDX-License-Identifier: MIT
// The softmax normaliser.
#include "serving/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "detail/softmax_simd.hpp"

namespace tailor::detail {

float LogSumExp::add(const float* scores, std::size_t n) {
  const SoftmaxSimd& kernels = softmax_simd();
  const float chunk_top = kernels.max(scores, n);
  if (chunk_top > top) {
    sum *= std::exp(top - chunk_top);
    top = chunk_top;
  }
  // Scores of -infinity only (removed items) add nothing; -infinity − -infinity would be NaN.
  if (chunk_top > -std::numeric_limits<float>::infinity()) {
    sum += static_cast<double>(kernels.exp_sum(scores, n, static_cast<float>(top)));
  }
  return chunk_top;
}

double LogSumExp::value() const { return top + std::log(sum); }

void Normaliser::set_exact(Index item, float approximate, float exact) {
  if (all_exact) return;
  const auto at = std::lower_bound(exact_items.begin(), exact_items.end(), item);
  if (at != exact_items.end() && *at == item) return;
  exact_items.insert(at, item);
  const double term = std::exp(static_cast<double>(exact) - lse.top);
  exact_sum += term;
  lse.sum =
      std::max(lse.sum + term - std::exp(static_cast<double>(approximate) - lse.top), exact_sum);
}

void Normaliser::set_all_exact(const std::vector<float>& exact) {
  lse = LogSumExp();
  lse.add(exact.data(), exact.size());
  all_exact = true;
}

double log_sum_exp(const float* scores, std::size_t n) {
  if (n == 0) return 0;
  LogSumExp l;
  l.add(scores, n);
  return l.value();
}

}  // namespace tailor::detail
