// SPDX-License-Identifier: MIT
// collective_step(): a rank's error becomes every rank's, at the same step.
#include "tailor/distributed/collective.hpp"

#include <atomic>
#include <exception>

#include "tailor/error.hpp"

namespace tailor::distributed {

namespace {
std::atomic<bool> g_failed_together{false};
}

void collective_step(MPI_Comm comm, const std::function<void()>& work) {
  std::exception_ptr error;
  try {
    work();
  } catch (...) {
    error = std::current_exception();
  }
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // The highest failing rank + 1, or 0 when every rank succeeded.
  const int mine = error ? rank + 1 : 0;
  int failed = 0;
  MPI_Allreduce(&mine, &failed, 1, MPI_INT, MPI_MAX, comm);
  if (failed == 0) return;
  g_failed_together = true;
  if (error) std::rethrow_exception(error);
  TAILOR_THROW(ErrorCode::Internal, "rank ", failed - 1, " failed; the job stops on every rank");
}

bool failed_together() { return g_failed_together; }

}  // namespace tailor::distributed
