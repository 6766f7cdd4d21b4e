// SPDX-License-Identifier: MIT
// MPI's lifetime in the command line (see mpi.hpp).
#include "cli/mpi.hpp"

#include <cstdlib>
#include <iostream>

#include "tailor/distributed/collective.hpp"

namespace tailor::cli {

namespace {

bool launched_by_mpi() {
  // Open MPI's launcher, and the PMI/PMIx variables other launchers (and Open MPI) set per rank.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name)) return true;
  }
  return false;
}

bool initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (initialized() && !finalized) MPI_Finalize();
}

void initialize(int* argc, char*** argv) {
  if (initialized()) return;
  MPI_Init(argc, argv);
  std::atexit(finalize_at_exit);
}

}  // namespace

void start_mpi_if_launched(int& argc, char**& argv) {
  if (launched_by_mpi()) initialize(&argc, &argv);
}

bool use_mpi(bool flag) {
  if (flag) initialize(nullptr, nullptr);
  if (!initialized()) return false;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return flag || size > 1;
}

int mpi_rank() {
  if (!initialized()) return 0;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int mpi_exit(int code) {
  if (!initialized() || code == 0) return code;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1 && !distributed::failed_together()) {
    std::cerr.flush();
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  return code;
}

}  // namespace tailor::cli
