// SPDX-License-Identifier: MIT
// user-personalization (ALS) trained across the ranks of an MPI communicator.
//
// Partitioning: the user sweep is split by user and the item sweep by item. Rank r holds the
// interactions of a contiguous block of users (their rows of the user×item matrix) and of a
// contiguous block of items (their rows of its transpose), blocks chosen so that every rank has
// about the same number of interactions plus rows. Every rank keeps all the factors (users and
// items, (U + I)·f floats): a row's solve reads the factors of any item the user touched, and
// replicating them costs one Allgatherv per sweep where fetching them on demand would cost a
// request per row.
//
// One iteration, on every rank:
//   1. G = YᵀY + λI: each rank computes the Gram matrix of its own item rows; MPI_Allreduce sums
//      the f×f partial matrices (f² floats).
//   2. It solves its users' rows with G (the per-row solve of the single-process fit), then
//      MPI_Allgatherv gives every rank every user's new row.
//   3. The same for the items, against the users' Gram matrix XᵀX + λI.
// Bytes a rank sends per iteration, with P ranks, U users, I items, f factors (4-byte floats), for
// the ring algorithms Open MPI uses on large messages: the Allgatherv forwards every block but its
// own successor's, (P−1)/P·(U + I)·f·4 bytes; the two Allreduces 2·2·(P−1)/P·f²·8 bytes (the
// partial Gram matrices are summed in double). Each rank receives as much. Compute per rank per
// iteration: ((U + I)/P)·(cg_steps·f² + …) for the row solves plus (U + I)/P·f² for its partial
// Gram matrices.
//
// The fit is the single-process one (AlsRecipe::train): the same initial factors (items, then
// users, drawn from one stream seeded with the seed, on every rank), the same per-row solve and the
// same order of sweeps. Only the Gram matrices are summed in another order (per rank, then across
// ranks), so the factors agree to rounding, not bit for bit.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/recipes/als.hpp"
#include "tailor/recipes/training_data.hpp"

namespace tailor::distributed {

/// One rank's share of the interactions: the rows of users [user_begin, user_end) of the
/// user×item matrix and the rows of items [item_begin, item_end) of its transpose, each in CSR form
/// (offsets relative to the block: user_offsets[0] = 0, size user_end − user_begin + 1). The
/// ranks' blocks, in rank order, must tile [0, num_users) and [0, num_items).
struct TAILOR_EXPORT AlsShard {
  Index num_users = 0;
  Index num_items = 0;
  Index user_begin = 0, user_end = 0;
  std::vector<std::size_t> user_offsets{0};
  std::vector<Index> user_items;
  std::vector<float> user_values;
  Index item_begin = 0, item_end = 0;
  std::vector<std::size_t> item_offsets{0};
  std::vector<Index> item_users;
  std::vector<float> item_values;
};

/// Rank `rank`'s share of `data` among `ranks` ranks: contiguous blocks of users and of items
/// with about the same interactions plus rows each (every rank computes the same split).
/// @throws tailor::Error(InvalidArgument) when rank is not in [0, ranks)
TAILOR_EXPORT AlsShard shard_of(const TrainingData& data, int rank, int ranks);

/// Where the time of a distributed fit went, on one rank (train_als()'s optional output).
struct TAILOR_EXPORT AlsTrainStats {
  int ranks = 1;
  int iterations = 0;
  double seconds = 0;                ///< the whole fit, initialisation included
  double compute_seconds = 0;        ///< partial Gram matrices and row solves
  double communication_seconds = 0;  ///< inside MPI calls (waiting for slower ranks included)
  /// Bytes this rank's own data put on the wire per iteration: its factor rows (both sweeps) and
  /// its two partial Gram matrices.
  std::uint64_t own_bytes_per_iteration = 0;
  /// Bytes this rank sends per iteration under ring Allgatherv and Allreduce (see the file's
  /// comment): (P−1)/P·(U + I)·f·4 + 2·2·(P−1)/P·f²·8 (the Gram matrices are summed in double).
  std::uint64_t ring_bytes_per_iteration = 0;
};

/// Trains ALS across the ranks of `comm` (collective: every rank calls it with its shard and the
/// same params and context). Every rank returns the whole model. Progress is reported on every
/// rank; loss is not computed (params.compute_loss must be false). A rank that fails makes every
/// rank throw at the next step: the failing rank its own error, the others Error(Internal) naming
/// it; nothing is returned anywhere.
/// @throws tailor::Error(InvalidArgument) for shards that do not tile the matrix or disagree on its
///         shape, no interactions at all, or compute_loss
TAILOR_EXPORT std::unique_ptr<AlsModel> train_als(MPI_Comm comm, const AlsParams& params,
                                                  const AlsShard& shard,
                                                  const TrainContext& context,
                                                  std::string recipe = "user-personalization",
                                                  AlsTrainStats* stats = nullptr);

/// The user-personalization recipe trained over `comm`: train() takes the whole TrainingData on
/// every rank (each rank read the same dataset group), keeps its shard_of() and calls train_als(),
/// so a Solution trains it like any recipe (collectively: every rank must train the same
/// solution). update() runs the single-process UPDATE on every rank (it fits new rows only).
class TAILOR_EXPORT DistributedAlsRecipe : public AlsRecipe {
 public:
  DistributedAlsRecipe(MPI_Comm comm, AlsParams params = {},
                       std::string name = "user-personalization");
  std::unique_ptr<Model> train(const TrainingData& data,
                               const TrainContext& context) const override;

 private:
  MPI_Comm comm_;
};

}  // namespace tailor::distributed
