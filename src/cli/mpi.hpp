// SPDX-License-Identifier: MIT
// The command line under MPI: `mpirun -np N tailor train|batch ...` (or --mpi) runs the command on
// every rank, distributed; rank 0 prints and writes, the other ranks write nothing.
#pragma once

#ifdef TAILOR_WITH_MPI
#include <mpi.h>
#endif

namespace tailor::cli {

#ifdef TAILOR_WITH_MPI
/// Initialises MPI when an MPI launcher started this process (it sets the rank's environment), so
/// that `mpirun -np N tailor ...` needs no flag; MPI is finalised when the process exits.
void start_mpi_if_launched(int& argc, char**& argv);
/// Whether a command should run distributed: `--mpi` given, or MPI's world has more than one
/// rank. Initialises MPI for `--mpi` outside a launcher (a world of one).
bool use_mpi(bool flag);
/// This process's rank in MPI's world (0 without MPI).
int mpi_rank();
/// The status to exit with after an error: when ranks may still wait for this one (the error did
/// not come from a step every rank agreed on), the whole job is aborted with `code` instead.
int mpi_exit(int code);
#else
inline void start_mpi_if_launched(int&, char**&) {}
inline int mpi_rank() { return 0; }
inline int mpi_exit(int code) { return code; }
#endif

}  // namespace tailor::cli
