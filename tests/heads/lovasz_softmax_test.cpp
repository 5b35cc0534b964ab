// Lovász-softmax: a hand-computed case, an independent numpy implementation of Berman et al.'s
// algorithm on random batches (with ignored pixels and an absent class), and the gradient
// against float64 central differences.
#include "heads/change/lovasz_softmax.h"

#include "core/error.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace vss::test {
namespace {

using change::lovasz_softmax;

TEST(LovaszSoftmax, HandComputedTwoClassCase) {
  // Pixels (labels 1, 0, 1, ignored), P(class 1) = 0.8, 0.4, 0.3, 0.9.
  // Class 0: errors |[y=0] − p0| = 0.2, 0.4, 0.7 -> sorted 0.7 (fg 0), 0.4 (fg 1), 0.2 (fg 0);
  //   Jaccard along the order 1/2, 1, 1 -> increments 1/2, 1/2, 0 -> loss 0.35 + 0.2 = 0.55.
  // Class 1: errors 0.2, 0.4, 0.7 -> sorted 0.7 (fg 1), 0.4 (fg 0), 0.2 (fg 1);
  //   Jaccard 1/2, 2/3, 1 -> increments 1/2, 1/6, 1/3 -> loss 0.35 + 0.4/6 + 0.2/3 = 29/60.
  // Mean over the two present classes: (33/60 + 29/60) / 2 = 31/60.
  const auto p1 = torch::tensor({0.8, 0.4, 0.3, 0.9}, torch::kDouble).view({1, 1, 1, 4});
  const auto probs = torch::cat({1 - p1, p1}, 1);
  const auto labels = torch::tensor({1, 0, 1, 255}, torch::kLong).view({1, 1, 4});
  EXPECT_NEAR(lovasz_softmax(probs, labels).item<double>(), 31.0 / 60.0, 1e-15);
}

TEST(LovaszSoftmax, PerfectPredictionIsZeroAndNothingLeftIsZero) {
  const auto labels = torch::tensor({{0, 1}, {1, 1}}, torch::kLong).unsqueeze(0);
  const auto onehot = torch::one_hot(labels, 2).permute({0, 3, 1, 2}).to(torch::kFloat);
  EXPECT_EQ(lovasz_softmax(onehot, labels).item<float>(), 0.0f);
  const auto all_ignored = torch::full({1, 2, 2}, 255, torch::kLong);
  const auto probs = torch::full({1, 2, 2, 2}, 0.5, torch::requires_grad());
  const auto loss = lovasz_softmax(probs, all_ignored);
  EXPECT_EQ(loss.item<float>(), 0.0f);
  loss.backward();  // still part of the graph
  EXPECT_EQ(probs.grad().abs().sum().item<float>(), 0.0f);
}

TEST(LovaszSoftmax, RejectsMismatchedShapes) {
  EXPECT_THROW(lovasz_softmax(torch::rand({1, 2, 3, 4}), torch::zeros({1, 4, 3}, torch::kLong)), Error);
}

// numpy, written from the paper's Algorithm 1 (not from our code): for every class present in
// the kept labels, sort the errors descending, take the Jaccard loss of each prefix, and dot
// the errors with its increments.
constexpr const char* kLovaszOracle = R"PY(
import sys, numpy as np
B, C, H, W = map(int, sys.argv[3:7])
probs = np.fromfile(sys.argv[1], dtype=np.float64).reshape(B, C, H, W)
labels = np.fromfile(sys.argv[2], dtype=np.int64).reshape(B, H, W)
p = probs.transpose(0, 2, 3, 1).reshape(-1, C); y = labels.reshape(-1)
keep = y != 255; p, y = p[keep], y[keep]
losses = []
for c in range(C):
    fg = (y == c).astype(np.float64)
    if fg.sum() == 0: continue
    err = np.abs(fg - p[:, c]); order = np.argsort(-err, kind="stable")
    e, g = err[order], fg[order]
    jac = np.empty(len(g))
    for i in range(len(g)):
        inter = g.sum() - g[: i + 1].sum(); union = g.sum() + (1 - g[: i + 1]).sum()
        jac[i] = 1 - inter / union
    inc = np.concatenate([jac[:1], np.diff(jac)])
    losses.append(float(np.dot(e, inc)))
print(repr(float(np.mean(losses)) if losses else 0.0))
)PY";

template <class T>
void write_raw(const std::filesystem::path& path, const at::Tensor& t) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(t.contiguous().data_ptr<T>()), static_cast<std::streamsize>(t.numel() * sizeof(T)));
}

TEST(LovaszSoftmax, MatchesNumpyOnRandomBatches) {
  if (!python_has({"numpy"})) GTEST_SKIP() << "numpy not available";
  const auto dir = make_temp_dir("lovasz");
  torch::manual_seed(3);
  const int64_t B = 2, C = 4, H = 5, W = 6;
  for (int trial = 0; trial < 4; ++trial) {
    SCOPED_TRACE(trial);
    const auto probs = torch::softmax(torch::randn({B, C, H, W}, torch::kDouble) * 2, 1);
    // Class 3 absent (skipped as not present), about 10% of the pixels ignored.
    auto labels = torch::randint(0, 3, {B, H, W}, torch::kLong);
    labels.masked_fill_(torch::rand({B, H, W}) < 0.1, 255);
    write_raw<double>(dir / "probs.bin", probs);
    write_raw<int64_t>(dir / "labels.bin", labels);
    std::string out;
    ASSERT_EQ(run_python(kLovaszOracle,
                         {(dir / "probs.bin").string(), (dir / "labels.bin").string(), std::to_string(B),
                          std::to_string(C), std::to_string(H), std::to_string(W)},
                         &out),
              0)
        << out;
    EXPECT_NEAR(lovasz_softmax(probs, labels).item<double>(), std::stod(out), 1e-12);
  }
  remove_tree(dir);
}

TEST(LovaszSoftmax, GradientMatchesFiniteDifferences) {
  // Random probabilities (no ties, so the sort order is locally constant and the loss is
  // linear in each coordinate around the point).
  torch::manual_seed(11);
  const auto base = torch::rand({1, 3, 3, 4}, torch::kDouble);
  auto labels = torch::randint(0, 3, {1, 3, 4}, torch::kLong);
  labels[0][1][2] = 255;
  const auto x = base.clone().requires_grad_(true);
  lovasz_softmax(x, labels).backward();
  const auto grad = x.grad();
  const double h = 1e-7;
  auto flat = base.flatten();
  double worst = 0;
  for (int64_t i = 0; i < flat.numel(); ++i) {
    auto plus = base.clone(), minus = base.clone();
    plus.view(-1)[i] += h;
    minus.view(-1)[i] -= h;
    const double fd = (lovasz_softmax(plus, labels).item<double>() - lovasz_softmax(minus, labels).item<double>()) / (2 * h);
    worst = std::max(worst, std::abs(fd - grad.view(-1)[i].item<double>()));
  }
  EXPECT_LT(worst, 1e-7);
}

}  // namespace
}  // namespace vss::test
