// vss::layer_norm's CUDA backward against its float64 CPU reference: every x / dy dtype pair,
// both row kernels (register-held rows of each width, the streaming kernel for long, odd or
// misaligned rows), channel-first maps, one row and many rows a warp, a residual gradient added
// to dx by each of them, bit-identical reruns.
// Runs on the GPU, and on the CUDA emulator (tests/emulation) where there is none.
#include "kernels/layer_norm.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using vss::test::kGpu;

// Max |ours - exact| over max(1, max |exact|): the kernel's float32 arithmetic (and, for 16-bit
// dx, one rounding) against the float64 reference computed from the same rounded inputs.
double relative_error(const at::Tensor& ours, const at::Tensor& exact) {
  const auto e = exact.to(torch::kCPU, torch::kDouble);
  return (ours.to(torch::kCPU, torch::kDouble) - e).abs().max().item<double>() /
         std::max(1.0, e.abs().max().item<double>());
}

double dx_tolerance(at::ScalarType t) { return t == torch::kFloat ? 2e-5 : t == torch::kHalf ? 2e-3 : 1.6e-2; }

const std::vector<at::ScalarType> kAllTypes = {torch::kFloat, torch::kHalf, torch::kBFloat16};

void check_backward(const at::Tensor& x_cpu, bool channel_first, const std::string& label,
                    const std::vector<at::ScalarType>& x_types = kAllTypes) {
  const int64_t C = channel_first ? x_cpu.size(1) : x_cpu.size(-1);
  const auto w = torch::randn({C}) * 0.5 + 1.0;
  const auto y_shape = vss::layer_norm(x_cpu.to(torch::kDouble), w, w, 1e-5, channel_first).sizes().vec();
  const auto dy_cpu = torch::randn(y_shape);
  for (auto xt : x_types) {
    for (auto gt : {torch::kFloat, torch::kBFloat16}) {
      const auto x = x_cpu.to(xt), dy = dy_cpu.to(gt);
      const auto [ex, ew, eb] = vss::layer_norm_backward(dy.to(torch::kDouble), x.to(torch::kDouble),
                                                         w.to(torch::kDouble), 1e-5, channel_first);
      const auto [dx, dw, db] = vss::layer_norm_backward(dy.to(kGpu), x.to(kGpu), w.to(kGpu), 1e-5, channel_first);
      const std::string where = label + " x " + c10::toString(xt) + " dy " + c10::toString(gt);
      ASSERT_EQ(dx.sizes(), x.sizes()) << where;
      ASSERT_EQ(dx.scalar_type(), xt) << where;
      ASSERT_EQ(dw.scalar_type(), torch::kFloat) << where;
      EXPECT_LE(relative_error(dx, ex), dx_tolerance(xt)) << where << ": dx";
      EXPECT_LE(relative_error(dw, ew), 1e-4) << where << ": dweight";
      EXPECT_LE(relative_error(db, eb), 1e-4) << where << ": dbias";
    }
  }
}

TEST(cuda_layer_norm_backward, channel_last_rows_match_the_cpu_reference) {
  REQUIRE_GPU();
  torch::manual_seed(20);
  // Register-held rows of 1, 2, 4 and 8 vectors a lane (C <= 1024); 1028 past them, 1, 3 and
  // 97 not multiples of 4: the streaming kernel.
  for (int64_t C : {4, 48, 96, 192, 384, 768, 1024, 1, 3, 97, 1028}) {
    check_backward(torch::randn({3, 5, C}) * 2.0 + 0.5, false, "C=" + std::to_string(C),
                   C > 200 ? std::vector<at::ScalarType>{torch::kBFloat16} : kAllTypes);
  }
  // One row; and more rows than the grid has warps (each warp sums many rows).
  check_backward(torch::randn({1, 96}), false, "1 row");
  check_backward(torch::randn({4100, 8}) * 3.0, false, "4100 rows", {torch::kFloat});
  check_backward(torch::randn({2100, 9}), false, "2100 rows, streaming", {torch::kFloat});
}

TEST(cuda_layer_norm_backward, channel_first_maps_match_the_cpu_reference) {
  REQUIRE_GPU();
  torch::manual_seed(21);
  for (auto shape : std::vector<std::vector<int64_t>>{{2, 96, 3, 5}, {1, 5, 7, 1}, {3, 3}, {1, 1536, 2, 3}}) {
    std::string label = "shape";
    for (auto d : shape) label += " " + std::to_string(d);
    check_backward(torch::randn(shape) * 3.0 - 1.0, true, label, {torch::kFloat, torch::kBFloat16});
  }
}

TEST(cuda_layer_norm_backward, misaligned_rows_and_large_offsets) {
  REQUIRE_GPU();
  torch::manual_seed(22);
  // Contiguous rows starting 4 bytes off a 16-byte boundary: the streaming kernel.
  const auto big = torch::randn({4 * 96 + 1}).to(kGpu);
  const auto x = big.narrow(0, 1, 4 * 96).view({4, 96});
  const auto w = torch::randn({96}), dy = torch::randn({4, 96});
  const auto [ex, ew, eb] = vss::layer_norm_backward(dy.to(torch::kDouble), x.cpu().to(torch::kDouble),
                                                     w.to(torch::kDouble), 1e-5);
  const auto [dx, dw, db] = vss::layer_norm_backward(dy.to(kGpu), x, w.to(kGpu), 1e-5);
  EXPECT_LE(relative_error(dx, ex), 2e-5);
  EXPECT_LE(relative_error(dw, ew), 1e-4);
  // Values far from zero: the statistics of x - x[0] keep the variance's digits.
  check_backward(torch::randn({6, 64}) * 0.05 + 50.0, false, "offset 50", {torch::kFloat});
}

// residual_grad is added where each kernel writes dx: register-held rows (C = 96), streaming
// rows (C = 97; and C = 96 with the residual 4 bytes off alignment), the channel-first tile and
// its transposed fallback (C = 1536); a residual in another dtype than x's is cast first.
TEST(cuda_layer_norm_backward, residual_grad_is_added_by_every_kernel) {
  REQUIRE_GPU();
  torch::manual_seed(24);
  struct Case {
    std::vector<int64_t> shape;
    bool channel_first, misaligned;
  };
  for (const Case& c : std::vector<Case>{{{3, 5, 96}, false, false},
                                         {{3, 5, 97}, false, false},
                                         {{3, 5, 96}, false, true},
                                         {{2, 96, 3, 5}, true, false},
                                         {{1, 1536, 2, 3}, true, false}}) {
    const int64_t C = c.channel_first ? c.shape[1] : c.shape.back();
    const auto x_cpu = torch::randn(c.shape) * 2.0 + 0.5, w = torch::randn({C}) * 0.5 + 1.0;
    const auto dy_cpu = torch::randn(vss::layer_norm(x_cpu, w, w, 1e-5, c.channel_first).sizes());
    for (auto xt : {torch::kFloat, torch::kBFloat16}) {
      for (auto rt : {torch::kFloat, torch::kBFloat16}) {
        const auto x = x_cpu.to(xt), r_cpu = torch::randn(c.shape).to(rt);
        at::Tensor r = r_cpu.to(kGpu);
        if (c.misaligned) r = torch::cat({torch::zeros({1}, r.options()), r.flatten()}).narrow(0, 1, r.numel()).view(c.shape);
        const auto [ex, ew, eb] = vss::layer_norm_backward(dy_cpu.to(torch::kDouble), x.to(torch::kDouble),
                                                           w.to(torch::kDouble), 1e-5, c.channel_first,
                                                           r_cpu.to(torch::kDouble));
        const auto [dx, dw, db] = vss::layer_norm_backward(dy_cpu.to(kGpu), x.to(kGpu), w.to(kGpu), 1e-5,
                                                           c.channel_first, r);
        std::string where = "shape";
        for (auto d : c.shape) where += " " + std::to_string(d);
        where += std::string(c.misaligned ? " misaligned" : "") + " x " + c10::toString(xt) + " residual " +
                 c10::toString(rt);
        ASSERT_EQ(dx.scalar_type(), xt) << where;
        EXPECT_LE(relative_error(dx, ex), dx_tolerance(xt)) << where << ": dx";
        EXPECT_LE(relative_error(dw, ew), 1e-4) << where << ": dweight";
        EXPECT_LE(relative_error(db, eb), 1e-4) << where << ": dbias";
      }
    }
  }
}

TEST(cuda_layer_norm_backward, reruns_are_bit_identical) {
  REQUIRE_GPU();
  torch::manual_seed(23);
  const auto x = torch::randn({3000, 96}).to(kGpu), dy = torch::randn({3000, 96}).to(kGpu);
  const auto w = torch::randn({96}).to(kGpu);
  const auto first = vss::layer_norm_backward(dy, x, w, 1e-5);
  const auto second = vss::layer_norm_backward(dy, x, w, 1e-5);
  EXPECT_TRUE(torch::equal(std::get<0>(first), std::get<0>(second)));
  EXPECT_TRUE(torch::equal(std::get<1>(first), std::get<1>(second)));
  EXPECT_TRUE(torch::equal(std::get<2>(first), std::get<2>(second)));
}


}  // namespace
