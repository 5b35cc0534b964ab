// MATLAB-style bicubic imresize: exact properties (constants stay constant, linear ramps are
// reproduced away from the borders, sizes are ceil(n·scale)) and numbers from an independent
// numpy implementation of MATLAB imresize.m's contributions() (dense resampling matrices
// with the [1..n, n..1] mirror), for shrinking and enlarging, integer and odd scales.
#include "core/error.h"
#include "datasets/matlab_imresize.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

namespace vss::test {
namespace {

TEST(MatlabImresize, OutputSizeIsCeilOfScaledSize) {
  const at::Tensor x = torch::rand({2, 13, 17}, torch::kDouble);
  EXPECT_EQ(imresize_matlab(x, 0.5).sizes().vec(), (std::vector<int64_t>{2, 7, 9}));
  EXPECT_EQ(imresize_matlab(x, 1.0 / 3).sizes().vec(), (std::vector<int64_t>{2, 5, 6}));
  EXPECT_EQ(imresize_matlab(x, 4).sizes().vec(), (std::vector<int64_t>{2, 52, 68}));
}

TEST(MatlabImresize, ConstantStaysConstant) {
  const at::Tensor x = torch::full({1, 11, 9}, 0.37, torch::kDouble);
  for (double s : {0.25, 1.0 / 3, 0.5, 2.0, 3.0}) {
    const at::Tensor y = imresize_matlab(x, s);
    EXPECT_LT((y - 0.37).abs().max().item<double>(), 1e-14) << s;
  }
}

// Symmetric, normalised taps reproduce a linear function exactly: out = ramp(u - 1) at
// u = i/scale + (1 - 1/scale)/2 (1-based), wherever no tap reaches past the border.
TEST(MatlabImresize, LinearRampIsReproducedInside) {
  const int64_t n = 40;
  const at::Tensor ramp = (torch::arange(n, torch::kDouble) * 0.5 + 3).view({1, n}).expand({6, n}).contiguous();
  for (double s : {0.25, 0.5, 2.0, 3.0}) {
    const at::Tensor y = imresize_matlab(ramp, s);
    const double reach = s < 1 ? 2 / s + 1 : 3;  // half the kernel width plus a tap
    for (int64_t i = 0; i < y.size(1); ++i) {
      const double u = static_cast<double>(i + 1) / s + 0.5 * (1 - 1 / s);
      if (u - reach < 1 || u + reach > n) continue;
      EXPECT_NEAR(y[0][i].item<double>(), (u - 1) * 0.5 + 3, 1e-12) << "scale " << s << " i " << i;
    }
  }
}

constexpr const char* kMatlabOracle = R"PY(
import sys, math, numpy as np
def cubic(x):
    a = np.abs(x)
    return (1.5*a**3 - 2.5*a**2 + 1)*(a <= 1) + (-0.5*a**3 + 2.5*a**2 - 4*a + 2)*((a > 1) & (a <= 2))
def matrix(n_in, n_out, scale):
    kw = 4.0 / scale if scale < 1 else 4.0
    u = np.arange(1, n_out + 1) / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kw / 2)
    P = int(math.ceil(kw)) + 2
    ind = left[:, None] + np.arange(P)[None, :]
    w = scale * cubic(scale * (u[:, None] - ind)) if scale < 1 else cubic(u[:, None] - ind)
    w = w / w.sum(1, keepdims=True)
    aux = np.concatenate([np.arange(1, n_in + 1), np.arange(n_in, 0, -1)])
    ind = aux[np.mod(ind.astype(int) - 1, len(aux))]
    M = np.zeros((n_out, n_in))
    for i in range(n_out):
        for j in range(P):
            M[i, ind[i, j] - 1] += w[i, j]
    return M
H, W = 13, 17
i = np.arange(H)[:, None]; j = np.arange(W)[None, :]
img = np.sin(0.3 * i) + 0.5 * np.cos(0.7 * j) + ((i * 7 + j * 13) % 17) / 17.0
for arg in sys.argv[1:]:
    s = float(eval(arg))
    out = matrix(H, math.ceil(H * s), s) @ img @ matrix(W, math.ceil(W * s), s).T
    print(out.shape[0], out.shape[1], ' '.join('%.17g' % v for v in out.ravel()))
)PY";

TEST(MatlabImresize, MatchesNumpyMatlabContributions) {
  if (!python_has({"numpy"})) GTEST_SKIP() << "python numpy not available";
  const std::vector<std::pair<std::string, double>> scales{
      {"1/2", 0.5}, {"1/3", 1.0 / 3}, {"1/4", 0.25}, {"0.37", 0.37}, {"2", 2.0}, {"3", 3.0}, {"4", 4.0}, {"1.6", 1.6}};
  std::vector<std::string> args;
  for (const auto& s : scales) args.push_back(s.first);
  std::string out;
  ASSERT_EQ(run_python(kMatlabOracle, args, &out), 0) << out;
  const int64_t H = 13, W = 17;
  at::Tensor img = torch::empty({H, W}, torch::kDouble);
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j)
      img[i][j] = std::sin(0.3 * i) + 0.5 * std::cos(0.7 * j) + static_cast<double>((i * 7 + j * 13) % 17) / 17.0;
  std::istringstream in(out);
  for (const auto& [name, s] : scales) {
    int64_t oh = 0, ow = 0;
    in >> oh >> ow;
    at::Tensor want = torch::empty({oh, ow}, torch::kDouble);
    for (int64_t k = 0; k < oh * ow; ++k) {
      double v = 0;
      in >> v;
      want.view({-1})[k] = v;
    }
    const at::Tensor got = imresize_matlab(img, s);
    ASSERT_EQ(got.sizes(), want.sizes()) << name;
    EXPECT_LT(max_abs_diff(got, want), 1e-12) << name;
  }
}

}  // namespace
}  // namespace vss::test
