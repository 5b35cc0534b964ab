// SS2D's scan paths compute the same function: the sequence path (flatten by copies, Δ/B/C
// projected in scan order, the plain op) against the fused plan op, outputs and every
// parameter's and the input's gradients in float64 on odd maps; strategies that are not
// row/column walks keep the fused path under `sequence_scan: always`.
#include "backbones/ss2d.h"
#include "scans/cross_scan.h"
#include "scans/hilbert_scan.h"
#include "tests/support/test_support.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

struct PathRun {
  at::Tensor y, dx;
  std::vector<at::Tensor> grads;
};

PathRun run_path(SS2D& layer, const at::Tensor& x, const at::Tensor& g) {
  const at::Tensor input = x.clone().requires_grad_();
  layer->zero_grad();
  PathRun r;
  r.y = layer->forward(input);
  r.y.backward(g);
  r.dx = input.grad();
  for (const auto& p : layer->parameters()) r.grads.push_back(p.grad().clone());
  return r;
}

SS2D make_layer(std::shared_ptr<ScanStrategy> scan, ScanPathChoice sequence) {
  SS2DOptions o;
  o.d_model = 6;
  o.d_state = 3;
  o.ssm_ratio = 2.0;
  o.scan = std::move(scan);
  o.sequence_scan = sequence;
  torch::manual_seed(7);
  SS2D layer(o);
  layer->to(torch::kDouble);
  return layer;
}

TEST(SS2DScanPaths, SequencePathMatchesTheFusedOpWithGradients) {
  for (const auto& [H, W] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {1, 9}, {5, 1}, {5, 7}}) {
    SS2D fused = make_layer(std::make_shared<CrossScan>(), ScanPathChoice::kNever);
    SS2D sequence = make_layer(std::make_shared<CrossScan>(), ScanPathChoice::kAlways);
    torch::manual_seed(8);
    const at::Tensor x = torch::randn({2, H, W, 6}, torch::kDouble);
    const at::Tensor g = torch::randn({2, H, W, 6}, torch::kDouble);
    const PathRun want = run_path(fused, x, g), got = run_path(sequence, x, g);
    const std::string where = std::to_string(H) + "x" + std::to_string(W);
    EXPECT_LT(test::max_abs_diff(got.y, want.y), 1e-12) << where;
    EXPECT_LT(test::max_abs_diff(got.dx, want.dx), 1e-12) << where;
    const auto names = fused->named_parameters().keys();
    for (size_t i = 0; i < want.grads.size(); ++i)
      EXPECT_LT(test::max_abs_diff(got.grads[i], want.grads[i]), 1e-11) << where << " d" << names[i];
  }
}

// Under autocast the sequences and their projections run in the autocast dtype (bf16 here,
// on the CPU): close to the float32 fused path, with gradients of the input and every parameter.
TEST(SS2DScanPaths, SequencePathUnderBf16AutocastStaysClose) {
  SS2D fused = make_layer(std::make_shared<CrossScan>(), ScanPathChoice::kNever);
  SS2D sequence = make_layer(std::make_shared<CrossScan>(), ScanPathChoice::kAlways);
  fused->to(torch::kFloat);
  sequence->to(torch::kFloat);
  torch::manual_seed(10);
  const at::Tensor x = torch::randn({2, 6, 5, 6}), g = torch::randn({2, 6, 5, 6});
  const PathRun want = run_path(fused, x, g);
  PathRun got;
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCPU, true);
  got = run_path(sequence, x, g);
  at::autocast::set_autocast_enabled(at::kCPU, false);
  at::autocast::clear_cache();
  const double scale = want.y.abs().max().item<double>();
  EXPECT_LT(test::max_abs_diff(got.y.to(torch::kFloat), want.y) / scale, 3e-2);
  ASSERT_TRUE(got.dx.defined());
  EXPECT_LT(test::max_abs_diff(got.dx.to(torch::kFloat), want.dx) / want.dx.abs().max().item<double>(), 6e-2);
  for (size_t i = 0; i < want.grads.size(); ++i) {
    ASSERT_TRUE(got.grads[i].defined()) << i;
    const double gscale = std::max(want.grads[i].abs().max().item<double>(), 1e-6);
    EXPECT_LT(test::max_abs_diff(got.grads[i].to(torch::kFloat), want.grads[i]) / gscale, 6e-2) << i;
  }
}

TEST(SS2DScanPaths, OtherStrategiesKeepTheFusedPath) {
  SS2D fused = make_layer(std::make_shared<HilbertScan>(), ScanPathChoice::kNever);
  SS2D asked = make_layer(std::make_shared<HilbertScan>(), ScanPathChoice::kAlways);
  torch::manual_seed(9);
  const at::Tensor x = torch::randn({1, 4, 4, 6}, torch::kDouble), g = torch::randn({1, 4, 4, 6}, torch::kDouble);
  EXPECT_TRUE(torch::equal(run_path(asked, x, g).y, run_path(fused, x, g).y));
}

}  // namespace
}  // namespace vss
