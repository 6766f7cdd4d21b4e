// SPDX-License-Identifier: MIT
// collective_step(): every rank agrees on whether a step failed, and which rank failed it. Run
// under mpirun with the other distributed tests (distributed_test.cpp holds main()).
#include "tailor/distributed/collective.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <stdexcept>
#include <string>

#include "tailor/error.hpp"

namespace tailor {
namespace {

int this_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int rank_count() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

TEST(DistributedCollective, AStepThatSucceedsEverywhereReturnsOnEveryRank) {
  int ran = 0;
  EXPECT_NO_THROW(distributed::collective_step(MPI_COMM_WORLD, [&] { ++ran; }));
  EXPECT_EQ(ran, 1);
}

TEST(DistributedCollective, ARanksErrorIsRethrownThereAndNamedOnTheOthers) {
  const int failing = rank_count() - 1;
  try {
    distributed::collective_step(MPI_COMM_WORLD, [&] {
      if (this_rank() == failing) throw Error(ErrorCode::NotFound, "no such shard file");
    });
    ADD_FAILURE() << "the step did not throw on rank " << this_rank();
  } catch (const Error& e) {
    if (this_rank() == failing) {
      EXPECT_EQ(e.code(), ErrorCode::NotFound);
      EXPECT_NE(std::string(e.what()).find("no such shard file"), std::string::npos) << e.what();
    } else {
      EXPECT_EQ(e.code(), ErrorCode::Internal);
      EXPECT_NE(std::string(e.what()).find("rank " + std::to_string(failing) + " failed"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(distributed::failed_together());
  // The ranks are still in step: the next collective step runs everywhere.
  int ran = 0;
  EXPECT_NO_THROW(distributed::collective_step(MPI_COMM_WORLD, [&] { ++ran; }));
  EXPECT_EQ(ran, 1);
}

TEST(DistributedCollective, SeveralFailingRanksAgreeOnTheHighestAndKeepTheirOwnErrors) {
  // Every rank but 0 fails, with an exception that is not a tailor::Error.
  try {
    distributed::collective_step(MPI_COMM_WORLD, [&] {
      if (this_rank() > 0) throw std::runtime_error("rank-local failure");
    });
    ADD_FAILURE() << "the step did not throw on rank " << this_rank();
  } catch (const Error& e) {
    EXPECT_EQ(this_rank(), 0) << "a failing rank must get its own exception back";
    EXPECT_EQ(e.code(), ErrorCode::Internal);
    EXPECT_NE(std::string(e.what()).find("rank " + std::to_string(rank_count() - 1) + " failed"),
              std::string::npos)
        << e.what();
  } catch (const std::runtime_error& e) {
    EXPECT_GT(this_rank(), 0);
    EXPECT_EQ(std::string(e.what()), "rank-local failure");
  }
}

}  // namespace
}  // namespace tailor
