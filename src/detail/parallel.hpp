// SPDX-License-Identifier: MIT
// The only file that includes <omp.h>: a parallel loop that carries exceptions out.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>

#ifdef TAILOR_HAVE_OPENMP
#include <omp.h>
#endif

namespace tailor::detail {

/// Number of threads a call asking for `requested` (0 = all) gets: never more than the machine's
/// cores, since extra threads only add scheduling cost and per-thread scratch memory.
inline int resolve_threads(int requested) {
#ifdef TAILOR_HAVE_OPENMP
  const int available = omp_get_max_threads();
  const int cores = omp_get_num_procs();
#else
  const int available = 1;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
#endif
  if (requested <= 0) return available;
  return std::min(requested, std::max(cores, 1));
}

/// Index of the calling thread inside a parallel_for body.
inline int thread_index() {
#ifdef TAILOR_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/// Runs body(i) for i in [0, n) on `threads` threads with dynamic scheduling. The first exception
/// thrown by any iteration is rethrown here, after the region; later iterations still run
/// (an exception must never cross an OpenMP region boundary).
template <typename Body>
void parallel_for(std::size_t n, int threads, Body&& body) {
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto guarded = [&](std::size_t i) {
    try {
      body(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };
#ifdef TAILOR_HAVE_OPENMP
  const int t = resolve_threads(threads);
  if (t > 1 && n > 1) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(t)
    for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
      guarded(static_cast<std::size_t>(i));
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) guarded(i);
  }
#else
  (void)threads;
  for (std::size_t i = 0; i < n; ++i) guarded(i);
#endif
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace tailor::detail
