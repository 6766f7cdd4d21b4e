// SPDX-License-Identifier: MIT
// How the distributed entry points fail: together, never one rank alone.
#pragma once

#include <mpi.h>

#include <functional>

#include "tailor/export.hpp"

namespace tailor::distributed {

/// Runs `work` on this rank, then agrees with every rank of `comm` (an MPI_Allreduce) on whether
/// all of them succeeded. A failure here is rethrown; a failure on another rank throws
/// Error(Internal) naming that rank. Every rank therefore throws at the same step and no rank is
/// left waiting in a later collective. Collective: every rank of `comm` must call it.
TAILOR_EXPORT void collective_step(MPI_Comm comm, const std::function<void()>& work);

/// Whether a collective_step() of this process has thrown (here or because of another rank): the
/// ranks then failed together and may finalise MPI normally; after any other error a program
/// should MPI_Abort, since its peers may be waiting in a collective.
TAILOR_EXPORT bool failed_together();

}  // namespace tailor::distributed
