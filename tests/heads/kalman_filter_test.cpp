// ByteTrack's Kalman filter: a hand-computed first step, and a long random run against a
// numpy filter written here from the published equations (predict x' = Fx, P' = FPFᵀ + Q;
// update with the gain from scipy's Cholesky solve), ByteTrack's noise constants.
#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/track/kalman_filter.h"
#include "heads/track/track_box.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace vss::test {
namespace {

using track::KalmanFilter;
using track::KalmanState;

TEST(KalmanFilter, FirstStepByHand) {
  // h = 100: position std 2·100/20 = 10, velocity std 10·100/160 = 6.25.
  KalmanState s = KalmanFilter::initiate({50, 60, 0.5, 100});
  EXPECT_DOUBLE_EQ(s.covariance[0], 100.0);
  EXPECT_DOUBLE_EQ(s.covariance[2 * 8 + 2], 1e-4);
  EXPECT_DOUBLE_EQ(s.covariance[4 * 8 + 4], 39.0625);
  EXPECT_DOUBLE_EQ(s.covariance[6 * 8 + 6], 1e-10);
  s.mean[4] = 3;  // vx
  KalmanFilter::predict(s);
  EXPECT_DOUBLE_EQ(s.mean[0], 53);
  // Var(x') = Var(x) + Var(vx) + (100/20)^2; Cov(x', vx') = Var(vx); Var(vx') = Var(vx) + (100/160)^2.
  EXPECT_DOUBLE_EQ(s.covariance[0], 100 + 39.0625 + 25);
  EXPECT_DOUBLE_EQ(s.covariance[0 * 8 + 4], 39.0625);
  EXPECT_DOUBLE_EQ(s.covariance[4 * 8 + 0], 39.0625);
  EXPECT_DOUBLE_EQ(s.covariance[4 * 8 + 4], 39.0625 + 0.390625);
  // Projection adds R = diag(5², 5², 0.1², 5²) to the position block.
  const auto proj = KalmanFilter::project(s);
  EXPECT_DOUBLE_EQ(proj.covariance[0], 164.0625 + 25);
  // Var(a): 1e-2² initially, + Var(va) = 1e-5² + Q 1e-2², then R 1e-1².
  EXPECT_NEAR(proj.covariance[2 * 4 + 2], 1e-4 + 1e-10 + 1e-4 + 1e-2, 1e-16);
}

TEST(KalmanFilter, ScalarUpdateByHand) {
  // x's block is decoupled from the others: gain k = Var(x')/(Var(x') + R) on the x row.
  KalmanState s = KalmanFilter::initiate({0, 0, 1, 100});
  KalmanFilter::predict(s);
  const double var = s.covariance[0], cov_xv = s.covariance[4], r = 25;
  KalmanFilter::update(s, {10, 0, 1, 100});
  EXPECT_NEAR(s.mean[0], 10 * var / (var + r), 1e-12);
  EXPECT_NEAR(s.mean[4], 10 * cov_xv / (var + r), 1e-12);
  EXPECT_NEAR(s.covariance[0], var - var * var / (var + r), 1e-9);
}

TEST(KalmanFilter, NonPositiveHeightIsAnError) {
  KalmanState s = KalmanFilter::initiate({0, 0, 1, 0});
  EXPECT_THROW(KalmanFilter::update(s, {0, 0, 1, 0}), Error);
}

TEST(TrackBox, ConversionsAndByteIou) {
  const track::Tlwh b{10, 20, 30, 60};
  const auto m = track::tlwh_to_xyah(b);
  EXPECT_DOUBLE_EQ(m[0], 25);
  EXPECT_DOUBLE_EQ(m[1], 50);
  EXPECT_DOUBLE_EQ(m[2], 0.5);
  EXPECT_DOUBLE_EQ(m[3], 60);
  const auto back = track::xyah_to_tlwh(m);
  EXPECT_DOUBLE_EQ(back.x, 10);
  EXPECT_DOUBLE_EQ(back.w, 30);
  // cython_bbox: tlbr (0,0,9,9) and (5,0,14,9) -> areas 10·10, overlap 5·10: 50 / 150.
  EXPECT_DOUBLE_EQ(track::byte_iou({0, 0, 9, 9}, {5, 0, 9, 9}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(track::byte_iou({0, 0, 9, 9}, {0, 0, 9, 9}), 1.0);
  EXPECT_DOUBLE_EQ(track::byte_iou({0, 0, 9, 9}, {10, 0, 9, 9}), 0.0);  // touching: no +1 overlap
  EXPECT_DOUBLE_EQ(track::byte_iou({0, 0, 9, 9}, {9, 0, 9, 9}), 10.0 / 190.0);
}

// numpy KF from the equations; per step: the measurement, a flag (predict only / update
// too), and the state after the step.
constexpr char kKalmanOracle[] = R"PY(
import sys, numpy as np, scipy.linalg
rng = np.random.default_rng(3)
F = np.eye(8); F[:4, 4:] = np.eye(4)
H = np.eye(4, 8)
wp, wv = 1 / 20, 1 / 160
def initiate(z):
    h = z[3]
    std = [2*wp*h, 2*wp*h, 1e-2, 2*wp*h, 10*wv*h, 10*wv*h, 1e-5, 10*wv*h]
    return np.r_[z, np.zeros(4)], np.diag(np.square(std))
def predict(x, P):
    h = x[3]
    Q = np.diag(np.square([wp*h, wp*h, 1e-2, wp*h, wv*h, wv*h, 1e-5, wv*h]))
    return F @ x, F @ P @ F.T + Q
def update(x, P, z):
    h = x[3]
    S = H @ P @ H.T + np.diag(np.square([wp*h, wp*h, 1e-1, wp*h]))
    c = scipy.linalg.cho_factor(S, lower=True)
    K = scipy.linalg.cho_solve(c, (P @ H.T).T).T
    return x + K @ (z - H @ x), P - K @ S @ K.T
out = open(sys.argv[1], "w")
for track in range(6):
    z = np.array([rng.uniform(0, 1000), rng.uniform(0, 600), rng.uniform(0.3, 0.8), rng.uniform(20, 300)])
    x, P = initiate(z)
    out.write("init " + " ".join(map(repr, z.tolist())) + " " + " ".join(map(repr, np.r_[x, P.ravel()].tolist())) + "\n")
    v = rng.normal(0, 5, 4) * [1, 1, 0.002, 0.5]
    for step in range(40):
        z = z + v + rng.normal(0, 2, 4) * [1, 1, 0.001, 0.5]
        x, P = predict(x, P)
        observed = rng.random() > 0.2
        if observed:
            x, P = update(x, P, z)
        out.write(("update " if observed else "predict ") + " ".join(map(repr, z.tolist())) + " " +
                  " ".join(map(repr, np.r_[x, P.ravel()].tolist())) + "\n")
out.close()
)PY";

TEST(KalmanFilter, MatchesNumpyFilterOverLongRuns) {
  const auto dir = make_temp_dir("vss_kalman");
  const auto file = dir / "steps.txt";
  std::string log;
  ASSERT_EQ(run_python(kKalmanOracle, {file.string()}, &log), 0) << log;
  std::ifstream in(file);
  KalmanState s;
  int steps = 0;
  double worst = 0;
  for (std::string line; std::getline(in, line); ++steps) {
    std::istringstream ss(line);
    std::string kind;
    ss >> kind;
    std::array<double, 4> z;
    for (double& v : z) ss >> v;
    std::array<double, 72> expected;
    for (double& v : expected) ss >> v;
    if (kind == "init") {
      s = KalmanFilter::initiate(z);
    } else {
      KalmanFilter::multi_predict({&s});
      if (kind == "update") KalmanFilter::update(s, z);
    }
    for (int i = 0; i < 72; ++i) {
      const double got = i < 8 ? s.mean[i] : s.covariance[i - 8];
      const double err = std::abs(got - expected[i]) / std::max(1.0, std::abs(expected[i]));
      worst = std::max(worst, err);
      ASSERT_LT(err, 1e-9) << "step " << steps << " entry " << i << ": " << got << " vs " << expected[i];
    }
  }
  EXPECT_EQ(steps, 6 * 41);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
