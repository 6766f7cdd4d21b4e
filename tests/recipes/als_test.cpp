// SPDX-License-Identifier: MIT
// ALS against a dense least-squares reference, determinism, and the recipe's behaviour.
#include "tailor/recipes/als.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>

#include "common/cpu_targets.hpp"
#include "recipes/als/als_kernels.hpp"
#include "tailor/error.hpp"

namespace tailor {
namespace {

// A small random implicit-feedback matrix (about 50 users × 40 items).
TrainingData tiny_data(Index users = 50, Index items = 40, double density = 0.15,
                       std::uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<Index> us, is;
  std::vector<std::int64_t> ts;
  std::vector<float> ws;
  for (Index u = 0; u < users; ++u) {
    for (Index i = 0; i < items; ++i) {
      if (unit(rng) < density) {
        us.push_back(u);
        is.push_back(i);
        ts.push_back(static_cast<std::int64_t>(us.size()));
        ws.push_back(static_cast<float>(1 + (rng() % 4)));
      }
    }
  }
  return TrainingData::build(users, items, us, is, ts, ws);
}

FactorMatrix random_factors(Index rows, int f, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 0.1f);
  FactorMatrix m(rows, f);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = normal(rng);
  }
  return m;
}

// The obvious solve: for each user, the full dense normal equations over every item, in double.
FactorMatrix reference_user_solve(const TrainingData& d, const FactorMatrix& Y, float reg,
                                  float alpha) {
  const Eigen::MatrixXd Yd = Y.cast<double>();
  FactorMatrix X(d.num_users, Y.cols());
  for (Index u = 0; u < d.num_users; ++u) {
    Eigen::VectorXd c = Eigen::VectorXd::Ones(d.num_items);
    Eigen::VectorXd p = Eigen::VectorXd::Zero(d.num_items);
    for (std::size_t e = d.user_offsets[u]; e < d.user_offsets[u + 1]; ++e) {
      c[d.user_items[e]] = 1 + alpha * d.user_values[e];
      p[d.user_items[e]] = 1;
    }
    Eigen::MatrixXd A = Yd.transpose() * c.asDiagonal() * Yd;
    A.diagonal().array() += reg;
    Eigen::VectorXd b = Yd.transpose() * c.cwiseProduct(p);
    X.row(u) = A.ldlt().solve(b).cast<float>().transpose();
  }
  return X;
}

detail::CsrView users_view(const TrainingData& d) {
  return {d.user_offsets.data(), d.user_items.data(), d.user_values.data(), d.num_users};
}

TEST(RecipesAls, CholeskySweepMatchesDenseReference) {
  TrainingData d = tiny_data();
  FactorMatrix Y = random_factors(d.num_items, 8, 1);
  FactorMatrix X = random_factors(d.num_users, 8, 2);
  detail::AlsKernelArgs args;
  args.regularization = 0.1f;
  args.alpha = 2.0f;
  args.cholesky = true;
  detail::als_solve_rows(X, Y, users_view(d), 0, args);
  FactorMatrix expected = reference_user_solve(d, Y, 0.1f, 2.0f);
  EXPECT_LT((X - expected).cwiseAbs().maxCoeff(), 1e-4f);
}

TEST(RecipesAls, ConjugateGradientConvergesToTheExactSolve) {
  TrainingData d = tiny_data();
  FactorMatrix Y = random_factors(d.num_items, 8, 1);
  FactorMatrix X = random_factors(d.num_users, 8, 2);
  detail::AlsKernelArgs args;
  args.regularization = 0.1f;
  args.alpha = 2.0f;
  args.cg_steps = 30;  // more steps than dimensions: CG is exact up to rounding
  detail::als_solve_rows(X, Y, users_view(d), 0, args);
  FactorMatrix expected = reference_user_solve(d, Y, 0.1f, 2.0f);
  EXPECT_LT((X - expected).cwiseAbs().maxCoeff(), 1e-3f);
}

// The widths 32, 64 and 128 have their own kernels (the row in registers); every target's must
// reach the dense solve when given enough steps.
TEST(RecipesAls, CompileTimeWidthsConvergeToTheExactSolveOnEveryTarget) {
  TrainingData d = tiny_data(30, 200, 0.2, 7);
  for (int f : {32, 64, 128}) {
    FactorMatrix Y = random_factors(d.num_items, f, 8);
    FactorMatrix expected = reference_user_solve(d, Y, 0.1f, 2.0f);
    for (detail::CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      FactorMatrix X = random_factors(d.num_users, f, 9);
      detail::AlsKernelArgs args;
      args.regularization = 0.1f;
      args.alpha = 2.0f;
      args.cg_steps = 3;
      detail::als_solve_rows(X, Y, users_view(d), 0, args);
      const float after_one = (X - expected).cwiseAbs().maxCoeff();
      args.cg_steps = 2 * f;
      detail::als_solve_rows(X, Y, users_view(d), 0, args);
      const float error = (X - expected).cwiseAbs().maxCoeff();
      EXPECT_LT(error, 1e-3f * expected.cwiseAbs().maxCoeff())
          << "f=" << f << " target " << detail::cpu_target_name(target);
      EXPECT_LT(error, after_one) << "f=" << f;
    }
  }
}

TEST(RecipesAls, CompileTimeWidthsMatchTheGenericKernelOnEveryTarget) {
  TrainingData d = tiny_data();
  for (int f : {32, 64, 128}) {
    FactorMatrix Y = random_factors(d.num_items, f, 5);
    FactorMatrix X = random_factors(d.num_users, f, 6);
    for (detail::CpuTarget target : detail::cpu_supported_targets()) {
      test::ScopedCpuTarget scope(target);
      detail::AlsKernelArgs args;
      args.cg_steps = 3;
      FactorMatrix fast = X;
      detail::als_solve_rows(fast, Y, users_view(d), 0, args);
      ASSERT_GT((fast - X).cwiseAbs().maxCoeff(), 1e-3f);  // the sweep did move X
      // Same maths through the generic (runtime-width) path: pad to an odd width and compare.
      FactorMatrix Yp = FactorMatrix::Zero(Y.rows(), f + 1),
                   Xp = FactorMatrix::Zero(X.rows(), f + 1);
      Yp.leftCols(f) = Y;
      Xp.leftCols(f) = X;
      detail::als_solve_rows(Xp, Yp, users_view(d), 0, args);
      EXPECT_LT((Xp.leftCols(f) - fast).cwiseAbs().maxCoeff(), 1e-4f)
          << "f=" << f << " target " << detail::cpu_target_name(target);
      EXPECT_EQ(Xp.col(f).cwiseAbs().maxCoeff(), 0.0f);  // the padding factor stays zero
    }
  }
}

TEST(RecipesAls, LossDecreasesAndSeedReproduces) {
  TrainingData d = tiny_data();
  AlsParams p;
  p.factors = 8;
  p.iterations = 6;
  p.compute_loss = true;
  std::vector<double> losses;
  TrainContext ctx;
  ctx.execution.seed = 9;
  ctx.progress = [&](const TrainingProgress& progress) { losses.push_back(progress.loss); };
  auto a = AlsRecipe(p).train(d, ctx);
  ASSERT_EQ(losses.size(), 6u);
  for (std::size_t k = 1; k < losses.size(); ++k) EXPECT_LE(losses[k], losses[k - 1] * (1 + 1e-6));
  EXPECT_LT(losses.back(), losses.front());
  ctx.progress = nullptr;
  auto b = AlsRecipe(p).train(d, ctx);
  const auto& ma = dynamic_cast<const AlsModel&>(*a);
  const auto& mb = dynamic_cast<const AlsModel&>(*b);
  EXPECT_TRUE(ma.user_factors() == mb.user_factors());
  EXPECT_TRUE(ma.item_factors() == mb.item_factors());
  ctx.execution.seed = 10;
  auto c = AlsRecipe(p).train(d, ctx);
  EXPECT_FALSE(ma.item_factors() == dynamic_cast<const AlsModel&>(*c).item_factors());
}

TEST(RecipesAls, ThreadCountDoesNotChangeTheFactors) {
  TrainingData d = tiny_data(200, 120, 0.05);
  AlsParams p;
  p.factors = 16;
  p.iterations = 3;
  TrainContext one, four;
  one.execution.num_threads = 1;
  four.execution.num_threads = 4;
  auto a = AlsRecipe(p).train(d, one);
  auto b = AlsRecipe(p).train(d, four);
  EXPECT_TRUE(dynamic_cast<const AlsModel&>(*a).user_factors() ==
              dynamic_cast<const AlsModel&>(*b).user_factors());
}

TEST(RecipesAls, FoldInSolvesOneUserAgainstFixedItems) {
  TrainingData d = tiny_data();
  AlsParams p;
  p.factors = 8;
  p.iterations = 4;
  auto model = AlsRecipe(p).train(d, {});
  const auto& als = dynamic_cast<const AlsModel&>(*model);
  // User 7's history, twice listed item summed like training does.
  std::vector<Index> history;
  std::vector<float> weights;
  for (std::size_t e = d.user_offsets[7]; e < d.user_offsets[8]; ++e) {
    history.push_back(d.user_items[e]);
    weights.push_back(d.user_values[e] / 2);
    history.push_back(d.user_items[e]);
    weights.push_back(d.user_values[e] / 2);
  }
  Eigen::VectorXf folded = als.fold_in(history, weights);
  FactorMatrix expected = reference_user_solve(d, als.item_factors(), p.regularization, p.alpha);
  EXPECT_LT((folded.transpose() - expected.row(7)).cwiseAbs().maxCoeff(), 1e-4f);
  // A query with refresh uses the fold-in; without, the trained row.
  UserQuery q;
  q.user = 7;
  q.history = history;
  q.weights = weights;
  q.refresh = true;
  EXPECT_TRUE(als.user_vector(q).isApprox(folded));
  q.refresh = false;
  EXPECT_TRUE(als.user_vector(q).isApprox(als.user_factors().row(7).transpose()));
  EXPECT_EQ(als.fold_in({}, {}).norm(), 0.0f);
}

TEST(RecipesAls, ScoresAreDotProductsAndRecommendRespectsMasks) {
  TrainingData d = tiny_data();
  AlsParams p;
  p.factors = 8;
  auto model = AlsRecipe(p).train(d, {});
  const auto& als = dynamic_cast<const AlsModel&>(*model);
  UserQuery q;
  q.user = 3;
  std::vector<float> all;
  als.score_all(q, all);
  ASSERT_EQ(all.size(), 40u);
  EXPECT_NEAR(all[5], als.user_factors().row(3).dot(als.item_factors().row(5)), 1e-5);
  std::vector<Index> some = {5, 9};
  std::vector<float> scores;
  als.score(q, some, scores);
  EXPECT_FLOAT_EQ(scores[1], all[9]);
  Bitmap allowed(40, true);
  allowed.reset(0);
  std::vector<Index> excluded = {1, 2};
  std::vector<ScoredItem> top;
  als.recommend(q, 10, {&allowed, excluded}, top);
  ASSERT_EQ(top.size(), 10u);
  for (std::size_t k = 0; k < top.size(); ++k) {
    EXPECT_GT(top[k].item, 2u);
    if (k > 0) {
      EXPECT_GE(top[k - 1].score, top[k].score);
    }
  }
  std::vector<Index> unknown = {40};
  EXPECT_THROW(als.score(q, unknown, scores), Error);
}

TEST(RecipesAls, BlockScoringMatchesDotProducts) {
  // 101 items (a partial last panel) and 13 users (a partial last group of users).
  const FactorMatrix users = random_factors(13, 24, 5), items = random_factors(101, 24, 6);
  const AlsModel als("user-personalization", AlsParams{}, users, items);
  for (Index first : {0u, 32u, 96u}) {
    const Index count = 101 - first;
    const std::size_t stride =
        (count + 15) / 16 * 16 + 16;  // longer than needed: rows must not overlap
    std::vector<float> out(13 * stride, -1.0f);
    als.score_block(users.data(), 13, first, count, out.data(), stride);
    for (Eigen::Index u = 0; u < 13; ++u) {
      for (Index i = 0; i < count; ++i) {
        const float expected = users.row(u).dot(items.row(first + i));
        ASSERT_NEAR(out[static_cast<std::size_t>(u) * stride + i], expected, 1e-4f)
            << "user " << u << " item " << first + i;
      }
      EXPECT_EQ(out[static_cast<std::size_t>(u) * stride + stride - 1],
                -1.0f);  // past the row's panels
    }
  }
  std::vector<float> out(16 * 13);
  EXPECT_THROW(als.score_block(users.data(), 13, 8, 16, out.data(), 16), Error);  // not on a panel
  EXPECT_THROW(als.score_block(users.data(), 13, 96, 16, out.data(), 16),
               Error);  // past the catalog
  EXPECT_THROW(als.score_block(users.data(), 13, 0, 32, out.data(), 16),
               Error);  // stride too short
}

TEST(RecipesAls, UpdateKeepsTrainedRowsAndFitsNewOnes) {
  TrainingData d = tiny_data(50, 40);
  AlsParams p;
  p.factors = 8;
  auto base = AlsRecipe(p).train(d, {});
  // Two new users and one new item, with interactions.
  std::vector<Index> us = d.users, is = d.items;
  std::vector<std::int64_t> ts = d.timestamps;
  std::vector<float> ws = d.weights;
  for (Index i : {0u, 3u, 40u}) {
    us.push_back(50);
    is.push_back(i);
    ts.push_back(0);
    ws.push_back(1);
  }
  us.push_back(51);
  is.push_back(40);
  ts.push_back(0);
  ws.push_back(1);
  TrainingData grown = TrainingData::build(52, 41, us, is, ts, ws);
  AlsRecipe recipe(p);
  auto updated = recipe.update(*base, grown, {});
  const auto& a = dynamic_cast<const AlsModel&>(*base);
  const auto& b = dynamic_cast<const AlsModel&>(*updated);
  EXPECT_EQ(b.num_users(), 52u);
  EXPECT_EQ(b.num_items(), 41u);
  EXPECT_TRUE(b.user_factors().topRows(50) == a.user_factors());
  EXPECT_TRUE(b.item_factors().topRows(40) == a.item_factors());
  EXPECT_GT(b.item_factors().row(40).norm(), 0.0f);
  // User 50 interacted with items 0 and 3: they should outrank an average item.
  UserQuery q;
  q.user = 50;
  std::vector<float> scores;
  b.score_all(q, scores);
  double mean = 0;
  for (float s : scores) mean += s;
  mean /= static_cast<double>(scores.size());
  EXPECT_GT(scores[0], mean);
  EXPECT_GT(scores[3], mean);
  AlsParams other = p;
  other.factors = 16;
  EXPECT_THROW(AlsRecipe(other).update(*base, grown, {}), Error);
}

TEST(RecipesAls, ParamsFromJsonValidateEverything) {
  AlsParams p = AlsParams::from_json(R"({"factors": 32, "alpha": "2.5", "solver": "cholesky"})");
  EXPECT_EQ(p.factors, 32);
  EXPECT_FLOAT_EQ(p.alpha, 2.5f);
  EXPECT_EQ(p.solver, AlsSolver::Cholesky);
  EXPECT_NE(p.to_json().find(R"("solver":"cholesky")"), std::string::npos);  // its JSON name stays
  EXPECT_EQ(AlsParams::from_json(p.to_json()).to_json(), p.to_json());
  auto message = [](const char* json) {
    try {
      AlsParams::from_json(json);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
      return std::string(e.what());
    } catch (...) {
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"factor": 8})").find("unknown key \"factor\""), std::string::npos);
  EXPECT_NE(message(R"({"factors": 8.5})").find("must be an integer"), std::string::npos);
  EXPECT_NE(message(R"({"solver": "qr"})").find("expected one of cg, cholesky"), std::string::npos);
  std::string both = message(R"({"factors": 0, "iterations": -1})");
  EXPECT_NE(both.find("factors"), std::string::npos);  // every violation in one message
  EXPECT_NE(both.find("iterations"), std::string::npos);
  EXPECT_NE(message("[1]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(AlsParams::describe().find("cg_steps"), std::string::npos);
}

TEST(RecipesAls, RefusesEmptyData) {
  TrainingData empty = TrainingData::build(3, 3, {}, {}, {}, {});
  EXPECT_THROW(AlsRecipe().train(empty, {}), Error);
}

}  // namespace
}  // namespace tailor
