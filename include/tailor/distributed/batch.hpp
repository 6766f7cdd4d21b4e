// SPDX-License-Identifier: MIT
// Batch inference across the ranks of an MPI communicator.
#pragma once

#include <mpi.h>

#include <functional>
#include <string>

#include "tailor/batch/batch_inference.hpp"
#include "tailor/export.hpp"

namespace tailor::distributed {

/// run_batch_inference() across the ranks of `comm` (collective: every rank calls it with a
/// campaign of the same solution version and the same options). Rank 0 reads `input` in blocks of
/// ranks × options.lines_per_block lines and scatters them, a contiguous share to each rank; each
/// rank answers its share against the full model (the single-process pieces: the same output
/// lines); rank 0 gathers the answers and writes them in input order to a temporary file renamed
/// over `output` at the end. Only rank 0 touches the files (`input` and `output` matter there
/// only). A rank that fails makes every rank throw at the same step (collective_step()) and no
/// output is left. Every rank returns the job's report.
/// @throws tailor::Error as run_batch_inference() does, on every rank
TAILOR_EXPORT BatchReport run_batch_inference(
    MPI_Comm comm, const Campaign& campaign, const std::string& input, const std::string& output,
    const BatchOptions& options, const std::function<void(std::size_t)>& progress = {});

}  // namespace tailor::distributed
