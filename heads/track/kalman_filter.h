#pragma once
// ByteTrack's (and DeepSORT's) constant-velocity Kalman filter on the 8-D state
// (cx, cy, a, h, vcx, vcy, va, vh), a = w/h, with noise proportional to the box height:
// position std weight 1/20, velocity 1/160; the aspect ratio gets fixed stds (1e-2 / 1e-5
// process, 1e-1 measurement). The numbers are ByteTrack's yolox/tracker/kalman_filter.py.
#include <array>
#include <vector>

namespace vss::track {

struct KalmanState {
  std::array<double, 8> mean{};
  std::array<double, 64> covariance{};  // 8x8, row-major
};

struct KalmanProjection {
  std::array<double, 4> mean{};
  std::array<double, 16> covariance{};  // 4x4 innovation covariance S, row-major
};

class KalmanFilter {
 public:
  static constexpr double kStdWeightPosition = 1.0 / 20;
  static constexpr double kStdWeightVelocity = 1.0 / 160;

  // A track from its first measurement (cx, cy, a, h): zero velocity, diagonal covariance.
  static KalmanState initiate(const std::array<double, 4>& xyah);
  // One step of x' = F x, P' = F P Fᵀ + Q, Q from the height before the step.
  static void predict(KalmanState& state);
  // predict() on every state; one call per frame for all tracks (ByteTrack's multi_predict).
  static void multi_predict(const std::vector<KalmanState*>& states);
  // The state in measurement space: H x and H P Hᵀ + R, R from the state's height.
  static KalmanProjection project(const KalmanState& state);
  // The posterior after measuring (cx, cy, a, h); error if S is not positive definite.
  static void update(KalmanState& state, const std::array<double, 4>& xyah);
};

}  // namespace vss::track
