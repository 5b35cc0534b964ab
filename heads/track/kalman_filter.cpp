#include "heads/track/kalman_filter.h"

#include "core/error.h"

#include <cmath>
#include <string>

namespace vss::track {
namespace {

constexpr int kDim = 8, kMeas = 4;

double& at(std::array<double, 64>& m, int r, int c) { return m[r * kDim + c]; }

void add_diagonal_squares(std::array<double, 64>& m, const std::array<double, 8>& std) {
  for (int i = 0; i < kDim; ++i) at(m, i, i) += std[i] * std[i];
}

}  // namespace

KalmanState KalmanFilter::initiate(const std::array<double, 4>& xyah) {
  KalmanState s;
  for (int i = 0; i < kMeas; ++i) s.mean[i] = xyah[i];
  const double h = xyah[3], p = 2 * kStdWeightPosition * h, v = 10 * kStdWeightVelocity * h;
  add_diagonal_squares(s.covariance, {p, p, 1e-2, p, v, v, 1e-5, v});
  return s;
}

void KalmanFilter::predict(KalmanState& s) {
  const double h = s.mean[3], p = kStdWeightPosition * h, v = kStdWeightVelocity * h;
  // F = [[I, I], [0, I]]: position += velocity; F P Fᵀ adds the velocity rows, then columns.
  for (int i = 0; i < kMeas; ++i) s.mean[i] += s.mean[i + kMeas];
  auto& P = s.covariance;
  for (int i = 0; i < kMeas; ++i)
    for (int c = 0; c < kDim; ++c) at(P, i, c) += at(P, i + kMeas, c);
  for (int r = 0; r < kDim; ++r)
    for (int j = 0; j < kMeas; ++j) at(P, r, j) += at(P, r, j + kMeas);
  add_diagonal_squares(P, {p, p, 1e-2, p, v, v, 1e-5, v});
}

void KalmanFilter::multi_predict(const std::vector<KalmanState*>& states) {
  for (KalmanState* s : states) predict(*s);
}

KalmanProjection KalmanFilter::project(const KalmanState& s) {
  KalmanProjection out;
  const double p = kStdWeightPosition * s.mean[3];
  const std::array<double, 4> std = {p, p, 1e-1, p};
  for (int r = 0; r < kMeas; ++r) {
    out.mean[r] = s.mean[r];
    for (int c = 0; c < kMeas; ++c) out.covariance[r * kMeas + c] = s.covariance[r * kDim + c];
    out.covariance[r * kMeas + r] += std[r] * std[r];
  }
  return out;
}

void KalmanFilter::update(KalmanState& s, const std::array<double, 4>& xyah) {
  const KalmanProjection proj = project(s);
  // Cholesky S = L Lᵀ.
  std::array<double, 16> L{};
  for (int i = 0; i < kMeas; ++i) {
    for (int j = 0; j <= i; ++j) {
      double sum = proj.covariance[i * kMeas + j];
      for (int k = 0; k < j; ++k) sum -= L[i * kMeas + k] * L[j * kMeas + k];
      if (i == j) {
        if (!(sum > 0))
          throw Error("KalmanFilter::update: innovation covariance is not positive definite (box height " +
                      std::to_string(s.mean[3]) + ")");
        L[i * kMeas + i] = std::sqrt(sum);
      } else {
        L[i * kMeas + j] = sum / L[j * kMeas + j];
      }
    }
  }
  // Kalman gain K (8x4) solves S Kᵀ = H P = the first 4 rows of P (P symmetric).
  std::array<double, 32> Kt{};  // Kᵀ, 4x8
  for (int c = 0; c < kDim; ++c) {
    double y[kMeas];
    for (int i = 0; i < kMeas; ++i) {  // L y = b
      double sum = s.covariance[i * kDim + c];
      for (int k = 0; k < i; ++k) sum -= L[i * kMeas + k] * y[k];
      y[i] = sum / L[i * kMeas + i];
    }
    for (int i = kMeas - 1; i >= 0; --i) {  // Lᵀ x = y
      double sum = y[i];
      for (int k = i + 1; k < kMeas; ++k) sum -= L[k * kMeas + i] * Kt[k * kDim + c];
      Kt[i * kDim + c] = sum / L[i * kMeas + i];
    }
  }
  std::array<double, 4> innovation;
  for (int i = 0; i < kMeas; ++i) innovation[i] = xyah[i] - proj.mean[i];
  for (int r = 0; r < kDim; ++r)
    for (int i = 0; i < kMeas; ++i) s.mean[r] += Kt[i * kDim + r] * innovation[i];
  // P -= K S Kᵀ.
  std::array<double, 32> SKt{};  // S Kᵀ, 4x8
  for (int i = 0; i < kMeas; ++i)
    for (int c = 0; c < kDim; ++c)
      for (int k = 0; k < kMeas; ++k) SKt[i * kDim + c] += proj.covariance[i * kMeas + k] * Kt[k * kDim + c];
  for (int r = 0; r < kDim; ++r)
    for (int c = 0; c < kDim; ++c) {
      double sum = 0;
      for (int k = 0; k < kMeas; ++k) sum += Kt[k * kDim + r] * SKt[k * kDim + c];
      s.covariance[r * kDim + c] -= sum;
    }
}

}  // namespace vss::track
