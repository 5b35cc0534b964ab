// CUDA selective scans against the CPU reference: the plain op (forward, backward, every
// dtype, long and odd lengths), the fused plan op and its channel-last twin for every
// strategy, determinism, bad input.
// Skipped (not passed) where no GPU is visible.
#include "kernels/scan_split.h"
#include "kernels/selective_scan.h"
#include "scans/scan_2d.h"
#include "scans/strategy_registry.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

using vss::test::expect_one_line_error;

using vss::test::kGpu;
using vss::test::max_abs_diff;

struct Inputs {
  at::Tensor u, delta, A, B, C, D, bias;
  std::vector<at::Tensor*> all() { return {&u, &delta, &A, &B, &C, &D, &bias}; }
};

const char* kNames[] = {"u", "delta", "A", "B", "C", "D", "delta_bias"};

std::optional<at::Tensor> opt(const at::Tensor& t) {
  return t.defined() ? std::optional<at::Tensor>(t) : std::nullopt;
}

// Mamba-like magnitudes: Δ around 0.05..0.5 (with softplus, from pre-activations around
// -1.5; without, drawn positive so the recurrence stays a decay), A in [-4, -0.5].
Inputs plain_inputs(int64_t batch, int64_t K, int64_t dim, int64_t N, int64_t L, bool with_D_bias,
                    bool softplus = true) {
  Inputs in;
  in.u = torch::randn({batch, K * dim, L});
  in.delta = softplus ? torch::randn({batch, K * dim, L}) * 0.5 - 1.5
                      : torch::rand({batch, K * dim, L}) * 0.3 + 0.02;
  in.A = -(torch::rand({K * dim, N}) * 3.5 + 0.5);
  in.B = torch::randn({batch, K, N, L});
  in.C = torch::randn({batch, K, N, L});
  if (with_D_bias) {
    in.D = torch::randn({K * dim});
    in.bias = softplus ? torch::randn({K * dim}) * 0.3 : torch::rand({K * dim}) * 0.05;
  }
  return in;
}

// The inputs as the CUDA op gets them (u, delta, B, C in `dtype`), and the same values on
// the CPU in float64 (so both see identical rounded inputs, and the reference's own rounding
// is far below the tolerances).
std::pair<Inputs, Inputs> to_devices(const Inputs& in, at::ScalarType dtype) {
  Inputs gpu = in, cpu = in;
  for (at::Tensor* t : {&gpu.u, &gpu.delta, &gpu.B, &gpu.C}) *t = t->to(dtype);
  for (at::Tensor* t : {&cpu.u, &cpu.delta, &cpu.B, &cpu.C}) *t = t->to(dtype).to(torch::kDouble);
  for (at::Tensor* t : {&cpu.A, &cpu.D, &cpu.bias})
    if (t->defined()) *t = t->to(torch::kDouble);
  for (at::Tensor* t : gpu.all())
    if (t->defined()) *t = t->to(kGpu);
  return {gpu, cpu};
}

// max |got - want| / max |want|, on the CPU in float64.
double rel_err(const at::Tensor& got, const at::Tensor& want) {
  const double scale = want.abs().max().item<double>();
  return max_abs_diff(got.to(torch::kCPU).to(torch::kDouble), want.to(torch::kDouble)) /
         std::max(scale, 1e-30);
}

double tolerance(at::ScalarType dtype) { return dtype == torch::kFloat ? 1e-5 : 1e-2; }

struct PlainCase {
  int64_t batch, K, dim, N, L;
  bool with_D_bias, softplus;
};

std::string describe(const PlainCase& c, at::ScalarType dtype) {
  std::ostringstream s;
  s << "B=" << c.batch << " K=" << c.K << " D=" << c.dim << " N=" << c.N << " L=" << c.L
    << (c.with_D_bias ? " D/bias" : "") << (c.softplus ? " softplus " : " ") << dtype;
  return s.str();
}

// Lengths 1, 7, 2049, 65537; N 1, 4, 16; K 1, 4; batch 1, 3; D never a multiple of 32.
std::vector<PlainCase> plain_cases() {
  return {{1, 1, 5, 1, 1, true, true},      {3, 4, 5, 4, 7, true, true},
          {1, 1, 37, 16, 7, false, false},  {3, 4, 5, 1, 2049, true, true},
          {1, 4, 3, 16, 2049, true, false}, {3, 1, 37, 4, 2049, false, true},
          {1, 4, 3, 1, 65537, true, true},  {1, 1, 5, 16, 65537, true, true},
          {3, 4, 1, 4, 65537, false, true}};
}

// Forward outputs and the gradients of sum(out · dy) for every input, through autograd.
struct ScanRun {
  at::Tensor out, last;
  std::vector<at::Tensor> grads;
};

ScanRun run_plain(const Inputs& proto, const at::Tensor& dy, bool softplus,
              std::optional<at::ScalarType> out_dtype = std::nullopt) {
  Inputs in = proto;
  for (at::Tensor* t : in.all())
    if (t->defined()) *t = t->detach().clone().requires_grad_(true);
  ScanRun r;
  std::tie(r.out, r.last) = vss::selective_scan(in.u, in.delta, in.A, in.B, in.C, opt(in.D),
                                                opt(in.bias), softplus, true, out_dtype);
  (r.out.to(torch::kDouble) * dy.to(r.out.device()).to(torch::kDouble)).sum().backward();
  for (at::Tensor* t : in.all()) r.grads.push_back(t->defined() ? t->grad() : at::Tensor());
  return r;
}

TEST(cuda_selective_scan, forward_and_backward_match_cpu_reference) {
  REQUIRE_GPU();
  torch::manual_seed(11);
  for (const PlainCase& c : plain_cases()) {
    const Inputs base = plain_inputs(c.batch, c.K, c.dim, c.N, c.L, c.with_D_bias, c.softplus);
    for (at::ScalarType dtype : {torch::kFloat, torch::kHalf, torch::kBFloat16}) {
      const std::string where = describe(c, dtype);
      const at::Tensor dy = torch::randn({c.batch, c.K * c.dim, c.L}).to(dtype).to(torch::kFloat);
      auto [gpu, cpu] = to_devices(base, dtype);
      const ScanRun want = run_plain(cpu, dy, c.softplus);
      const ScanRun got = run_plain(gpu, dy, c.softplus);
      EXPECT_EQ(got.out.scalar_type(), dtype) << where;
      EXPECT_LT(rel_err(got.out, want.out), tolerance(dtype)) << where << " out";
      EXPECT_LT(rel_err(got.last, want.last), 1e-5) << where << " last_state";
      for (size_t i = 0; i < want.grads.size(); ++i) {
        ASSERT_EQ(got.grads[i].defined(), want.grads[i].defined()) << where << " d" << kNames[i];
        if (want.grads[i].defined()) {
          EXPECT_LT(rel_err(got.grads[i], want.grads[i]), tolerance(dtype))
              << where << " d" << kNames[i];
        }
      }
      if (dtype != torch::kFloat) {  // out_dtype float32: the state math is float32 either way
        const ScanRun got32 = run_plain(gpu, dy, c.softplus, torch::kFloat);
        EXPECT_EQ(got32.out.scalar_type(), torch::kFloat);
        EXPECT_LT(rel_err(got32.out, want.out), 1e-5) << where << " out_dtype float32";
      }
    }
  }
}

TEST(cuda_selective_scan, reruns_are_bit_identical_and_atomics_bounded) {
  REQUIRE_GPU();
  torch::manual_seed(12);
  for (int64_t N : {4, 1}) {  // N = 1 at this batch: the block kernel (too few rows for warps)
    const Inputs base = plain_inputs(3, 4, 37, N, 5000, true);
    const at::Tensor dy = torch::randn({3, 4 * 37, 5000});
    auto [gpu, cpu] = to_devices(base, torch::kFloat);
    const ScanRun a = run_plain(gpu, dy, true), b = run_plain(gpu, dy, true);
    EXPECT_TRUE(torch::equal(a.out, b.out));
    EXPECT_TRUE(torch::equal(a.last, b.last));
    // du, ddelta, dA, dD, ddelta_bias are summed in a fixed order, and so are dB and dC with
    // N = 1; with N > 1 those use float atomics over the channels of a group, so they may
    // differ at rounding level.
    for (size_t i : {0, 1, 2, 5, 6}) EXPECT_TRUE(torch::equal(a.grads[i], b.grads[i])) << kNames[i] << " N=" << N;
    for (size_t i : {3, 4}) {
      if (N == 1) EXPECT_TRUE(torch::equal(a.grads[i], b.grads[i])) << kNames[i] << " N=" << N;
      else EXPECT_LT(rel_err(a.grads[i], b.grads[i].cpu()), 1e-6) << kNames[i];
    }
  }
}

// Sequence splitting (kernels/scan_split.h) with forced segment counts and the automatic
// choice, against the CPU reference. Slow decays (|A·Δ| ~ 1e-3 a step) so that the state a
// segment inherits from the ones before it dominates its outputs. Such long memories also
// grow float32 rounding (the unsplit kernel reaches ~3e-5 of the output scale here, against
// 1e-5 for Mamba-like decays above), so a split run must stay within the tolerance or
// twice the unsplit kernel's own error on the same inputs.
struct ScopedSplit {
  explicit ScopedSplit(int segments) { vss::set_scan_split(segments); }
  ~ScopedSplit() { vss::set_scan_split(0); }
};

at::Tensor slow_decay(int64_t channels, int64_t N) {
  return -(torch::rand({channels, N}) * 0.01 + 0.001);
}

TEST(cuda_selective_scan, split_sequences_match_cpu_reference) {
  REQUIRE_GPU();
  torch::manual_seed(17);
  const std::vector<PlainCase> cases{{1, 4, 3, 1, 65537, true, true},
                                     {1, 1, 5, 16, 20000, true, true},
                                     {2, 4, 5, 4, 5000, false, true}};
  for (const PlainCase& c : cases) {
    Inputs base = plain_inputs(c.batch, c.K, c.dim, c.N, c.L, c.with_D_bias, c.softplus);
    base.A = slow_decay(c.K * c.dim, c.N);
    for (at::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
      auto [gpu, cpu] = to_devices(base, dtype);
      const at::Tensor dy = torch::zeros({c.batch, c.K * c.dim, c.L});
      const ScanRun want = run_plain(cpu, dy, c.softplus);
      double out_bound = 0, last_bound = 0;
      for (int segments : {1, 3, 64, 0}) {
        const ScopedSplit split(segments);
        const std::string where = describe(c, dtype) + " segments=" + std::to_string(segments);
        const ScanRun got = run_plain(gpu, dy, c.softplus);
        const double out_err = rel_err(got.out, want.out), last_err = rel_err(got.last, want.last);
        if (segments == 1) {
          EXPECT_LT(out_err, 10 * tolerance(dtype)) << where << " out";
          EXPECT_LT(last_err, 10 * tolerance(dtype)) << where << " last_state";
          out_bound = std::max(tolerance(dtype), 2 * out_err);
          last_bound = std::max(tolerance(dtype), 2 * last_err);
        }
        EXPECT_LE(out_err, out_bound) << where << " out";
        EXPECT_LE(last_err, last_bound) << where << " last_state";
        if (segments == 3) {
          const ScanRun again = run_plain(gpu, dy, c.softplus);
          EXPECT_TRUE(torch::equal(got.out, again.out)) << where << " rerun";
        }
      }
    }
  }
}

// The N = 1 warp kernels, forward (a warp per row) and backward (a warp per 1-8 channels of a
// group), taken whenever splitting is off and by default where their warps fill the GPU: tile
// edges (L around 256, the bf16 tile; 128 for float32), rows not 16-byte aligned (odd L),
// channel counts that leave a block's last warps idle (37), blocks spanning two B/C groups
// (D = 5), backward warps of 8 and 4 channels (D = 16, 12), with and without D / delta_bias /
// softplus.
TEST(cuda_selective_scan, warp_kernels_match_cpu_reference) {
  REQUIRE_GPU();
  torch::manual_seed(19);
  const std::vector<PlainCase> cases{{3, 1, 37, 1, 1, true, true},    {1, 4, 5, 1, 7, false, false},
                                     {3, 1, 37, 1, 127, true, true},  {1, 4, 5, 1, 128, true, false},
                                     {3, 4, 5, 1, 255, true, true},   {1, 1, 37, 1, 256, false, true},
                                     {2, 4, 5, 1, 257, true, true},   {1, 4, 5, 1, 3137, true, true},
                                     {1, 1, 37, 1, 3136, true, true}, {1, 4, 3, 1, 65537, true, true},
                                     {2, 4, 16, 1, 300, true, true},  {1, 2, 12, 1, 1, true, false},
                                     {1, 1, 8, 1, 3137, true, true}};
  for (int split : {1, 0}) {
    const ScopedSplit mode(split);
    std::vector<PlainCase> run = cases;
    if (split == 0) run = {{2, 4, 600, 1, 1000, true, true}};  // 4800 rows: the automatic choice
    for (const PlainCase& c : run) {
      const Inputs base = plain_inputs(c.batch, c.K, c.dim, c.N, c.L, c.with_D_bias, c.softplus);
      for (at::ScalarType dtype : {torch::kFloat, torch::kHalf, torch::kBFloat16}) {
        const std::string where = describe(c, dtype) + " split=" + std::to_string(split);
        const at::Tensor dy = torch::randn({c.batch, c.K * c.dim, c.L}).to(dtype).to(torch::kFloat);
        auto [gpu, cpu] = to_devices(base, dtype);
        const ScanRun want = run_plain(cpu, dy, c.softplus);
        const ScanRun got = run_plain(gpu, dy, c.softplus);
        EXPECT_LT(rel_err(got.out, want.out), tolerance(dtype)) << where << " out";
        EXPECT_LT(rel_err(got.last, want.last), 1e-5) << where << " last_state";
        for (size_t i = 0; i < want.grads.size(); ++i) {
          if (want.grads[i].defined()) {
            EXPECT_LT(rel_err(got.grads[i], want.grads[i]), tolerance(dtype)) << where << " d" << kNames[i];
          }
        }
        const ScanRun again = run_plain(gpu, dy, c.softplus);
        EXPECT_TRUE(torch::equal(got.out, again.out)) << where << " rerun";
        for (size_t i = 0; i < want.grads.size(); ++i)  // all summed in a fixed order with N = 1
          if (want.grads[i].defined()) {
            EXPECT_TRUE(torch::equal(got.grads[i], again.grads[i])) << where << " rerun d" << kNames[i];
          }
      }
    }
  }
}

// The forward's checkpoints (vss::selective_scan_checkpointed, N = 1 warp kernels): the state
// entering each tile of 512 bytes of u, checked against the CPU reference's last state over
// the prefix before it; the backward gives the same gradients with them as without (where it
// runs a first pass of its own). Cases: multi-tile rows, short rows sharing a warp (L = 7: a
// row takes 8 lanes) with 1, 2 and 8 channels a backward warp (D = 37, 6, 16), and enough rows
// (35200) that each forward warp walks several row groups.
TEST(cuda_selective_scan, checkpoints_are_the_states_entering_each_tile) {
  REQUIRE_GPU();
  torch::manual_seed(23);
  const std::vector<PlainCase> cases{{2, 4, 16, 1, 300, true, true}, {1, 4, 5, 1, 3137, true, true},
                                     {3, 1, 37, 1, 7, true, true},   {2, 2, 6, 1, 7, false, true},
                                     {2, 4, 16, 1, 49, true, false}, {2, 4, 4400, 1, 7, true, true}};
  const ScopedSplit warp_kernels(1);
  for (const PlainCase& c : cases) {
    const Inputs base = plain_inputs(c.batch, c.K, c.dim, c.N, c.L, c.with_D_bias, c.softplus);
    for (at::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
      const std::string where = describe(c, dtype);
      auto [gpu, cpu] = to_devices(base, dtype);
      const auto [out, last, checkpoints] = vss::selective_scan_checkpointed(
          gpu.u, gpu.delta, gpu.A, gpu.B, gpu.C, opt(gpu.D), opt(gpu.bias), c.softplus, true);
      const auto [want_out, want_last] = vss::selective_scan(cpu.u, cpu.delta, cpu.A, cpu.B, cpu.C, opt(cpu.D),
                                                             opt(cpu.bias), c.softplus, true);
      EXPECT_LT(rel_err(out, want_out), tolerance(dtype)) << where << " out";
      EXPECT_LT(rel_err(last, want_last), 1e-5) << where << " last_state";
      const int64_t stride = 512 / at::elementSize(dtype);
      const int64_t tiles = (c.L + stride - 1) / stride;
      ASSERT_EQ(checkpoints.sizes(), (std::vector<int64_t>{c.batch, c.K * c.dim, tiles, 1})) << where;
      EXPECT_EQ(checkpoints.select(2, 0).abs().max().item<float>(), 0.f) << where;
      for (int64_t j = 1; j < tiles; ++j) {
        const int64_t len = j * stride;
        const at::Tensor prefix_state = std::get<1>(vss::selective_scan(
            cpu.u.narrow(2, 0, len), cpu.delta.narrow(2, 0, len), cpu.A, cpu.B.narrow(3, 0, len),
            cpu.C.narrow(3, 0, len), opt(cpu.D), opt(cpu.bias), c.softplus, true));
        EXPECT_LT(rel_err(checkpoints.select(2, j), prefix_state), 1e-5) << where << " tile " << j;
      }
      const at::Tensor dy = torch::randn({c.batch, c.K * c.dim, c.L}).to(kGpu);
      const auto with = vss::selective_scan_backward(dy, gpu.u, gpu.delta, gpu.A, gpu.B, gpu.C, opt(gpu.D),
                                                     opt(gpu.bias), c.softplus, checkpoints);
      const auto without = vss::selective_scan_backward(dy, gpu.u, gpu.delta, gpu.A, gpu.B, gpu.C, opt(gpu.D),
                                                        opt(gpu.bias), c.softplus);
      const std::vector<at::Tensor> a{std::get<0>(with), std::get<1>(with), std::get<2>(with), std::get<3>(with),
                                      std::get<4>(with), std::get<5>(with), std::get<6>(with)};
      const std::vector<at::Tensor> b{std::get<0>(without), std::get<1>(without), std::get<2>(without),
                                      std::get<3>(without), std::get<4>(without), std::get<5>(without),
                                      std::get<6>(without)};
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].defined(), b[i].defined()) << where << " d" << kNames[i];
        if (a[i].defined()) {
          EXPECT_LT(rel_err(a[i], b[i].cpu()), 1e-5) << where << " d" << kNames[i];
        }
      }
      // Checkpoints of another tiling are bad input, not silently ignored.
      const at::Tensor wrong = torch::zeros({c.batch, c.K * c.dim, tiles + 1, 1}, torch::kFloat).to(kGpu);
      expect_one_line_error(
          [&] {
            vss::selective_scan_backward(dy, gpu.u, gpu.delta, gpu.A, gpu.B, gpu.C, opt(gpu.D), opt(gpu.bias),
                                         c.softplus, wrong);
          },
          "vss::selective_scan_backward: checkpoints hold " + std::to_string(tiles + 1) +
              " tiles, but this kernel walks L = " + std::to_string(c.L) + " in " + std::to_string(tiles) +
              ": pass what vss::selective_scan_checkpointed returned for these inputs");
    }
  }
}

// ---- the fused plan op -------------------------------------------------------------------

struct ImageInputs {
  at::Tensor u, delta, A, B, C, D, bias;
  std::vector<at::Tensor*> all() { return {&u, &delta, &A, &B, &C, &D, &bias}; }
};

ImageInputs image_inputs(int64_t batch, int64_t dim, int64_t K, int64_t N, int64_t H, int64_t W) {
  ImageInputs in;  // softplus on: pre-activations around -1.5
  in.u = torch::randn({batch, dim, H, W});
  in.delta = torch::randn({batch, K * dim, H, W}) * 0.5 - 1.5;
  in.A = -(torch::rand({K * dim, N}) * 3.5 + 0.5);
  in.B = torch::randn({batch, K, N, H, W});
  in.C = torch::randn({batch, K, N, H, W});
  in.D = torch::randn({K * dim});
  in.bias = torch::randn({K * dim}) * 0.3;
  return in;
}

// As to_devices, for image inputs.
std::pair<ImageInputs, ImageInputs> image_to_devices(const ImageInputs& in, at::ScalarType dtype) {
  ImageInputs gpu = in, cpu = in;
  for (at::Tensor* t : {&gpu.u, &gpu.delta, &gpu.B, &gpu.C}) *t = t->to(dtype);
  for (at::Tensor* t : {&cpu.u, &cpu.delta, &cpu.B, &cpu.C}) *t = t->to(dtype).to(torch::kDouble);
  for (at::Tensor* t : {&cpu.A, &cpu.D, &cpu.bias}) *t = t->to(torch::kDouble);
  for (at::Tensor* t : gpu.all()) *t = t->to(kGpu);
  return {gpu, cpu};
}

template <typename Fn>
std::pair<at::Tensor, std::vector<at::Tensor>> run_image(Fn fn, const ImageInputs& proto,
                                                         const at::Tensor& dy) {
  ImageInputs in = proto;
  for (at::Tensor* t : in.all()) *t = t->detach().clone().requires_grad_(true);
  at::Tensor y = fn(in);
  (y.to(torch::kDouble) * dy.to(y.device()).to(torch::kDouble)).sum().backward();
  std::vector<at::Tensor> grads;
  for (at::Tensor* t : in.all()) grads.push_back(t->grad());
  return {y, grads};
}

std::vector<std::pair<std::string, std::vector<std::string>>> strategies() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const std::string& name : vss::scan_strategy_names()) out.push_back({name, {}});
  out.push_back({"local_window", {"pad=true", "directions=[w3, w3_flip, h, v_flip]"}});
  return out;
}

TEST(cuda_selective_scan_plan, fused_matches_cpu_for_every_strategy) {
  REQUIRE_GPU();
  torch::manual_seed(13);
  // 7×9 (N = 4) and 1×13 take the channel tile; 33×40 (N = 1) a warp per direction
  // (strategies with K > 4: several a warp); 300×300 (H·W = 90000) the block kernel with
  // rows in global memory.
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> shapes{
      {7, 9, 4}, {1, 13, 1}, {33, 40, 1}, {300, 300, 1}};
  for (const auto& [name, params] : strategies()) {
    const auto strategy = vss::make_scan_strategy(name, params);
    for (const auto& [H, W, N] : shapes) {
      if (H == 300 && name != "cross" && name != "hilbert") continue;  // keep the CPU time sane
      const vss::ScanPlan& plan_cpu = vss::cached_plan(*strategy, H, W);
      const vss::ScanPlan& plan_gpu = vss::cached_plan(*strategy, H, W, kGpu);
      const ImageInputs base = image_inputs(2, 3, plan_cpu.K, N, H, W);
      for (at::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
        const at::Tensor dy = torch::randn({2, 3, H, W}).to(dtype).to(torch::kFloat);
        auto [gpu, cpu] = image_to_devices(base, dtype);
        auto fused = [&](const vss::ScanPlan& plan) {
          return [&plan](ImageInputs& x) {
            return vss::scan_2d(x.u, x.delta, x.A, x.B, x.C, x.D, x.bias, plan, true);
          };
        };
        const auto [want, want_g] = run_image(fused(plan_cpu), cpu, dy);
        const auto [got, got_g] = run_image(fused(plan_gpu), gpu, dy);
        const std::string where = name + " " + std::to_string(H) + "x" + std::to_string(W) +
                                  " N=" + std::to_string(N) + " " + c10::toString(dtype);
        EXPECT_LT(rel_err(got, want), tolerance(dtype)) << where << " y";
        for (size_t i = 0; i < want_g.size(); ++i)
          EXPECT_LT(rel_err(got_g[i], want_g[i]), tolerance(dtype)) << where << " d" << kNames[i];
        if (dtype == torch::kFloat && H != 300) {  // and the unfused path on the GPU, in float32
          auto unfused = [&](ImageInputs& x) {
            return vss::scan_2d_unfused(x.u, x.delta, x.A, x.B, x.C, x.D, x.bias, plan_gpu, true);
          };
          const auto [ref, ref_g] = run_image(unfused, gpu, dy);
          EXPECT_LT(rel_err(got, ref.cpu()), 1e-5) << where << " vs unfused";
          for (size_t i = 0; i < ref_g.size(); ++i)
            EXPECT_LT(rel_err(got_g[i], ref_g[i].cpu()), 2e-5) << where << " vs unfused d" << kNames[i];
        }
      }
    }
  }
}

TEST(cuda_selective_scan_plan, forward_kernels_by_map_size_match_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(16);
  // The channel-tile kernel (40 channels: a full tile and a partial one): N > 1 on 14×14 and
  // 1×200, and plans under 128 steps (7×7, 1×1). N = 1 on 14×14, 1×200, 40×40 and 1×1500 (a
  // ragged last tile): a warp per direction. 40×40 with N = 3 and 56×56 with N = 1 (rows too
  // large for the warp kernel's occupancy): the block-per-channel kernel, rows in shared memory.
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> shapes{
      {14, 14, 3}, {1, 200, 2}, {14, 14, 1}, {7, 7, 1}, {1, 200, 1}, {1, 1, 1},
      {40, 40, 1}, {1, 1500, 1}, {40, 40, 3}, {56, 56, 1}};
  const auto strategy = vss::make_scan_strategy("cross", {});
  for (const auto& [H, W, N] : shapes) {
    const vss::ScanPlan& plan_cpu = vss::cached_plan(*strategy, H, W);
    const vss::ScanPlan& plan_gpu = vss::cached_plan(*strategy, H, W, kGpu);
    const ImageInputs base = image_inputs(2, 40, plan_cpu.K, N, H, W);
    for (at::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
      auto [gpu, cpu] = image_to_devices(base, dtype);
      const at::Tensor want = vss::scan_2d(cpu.u, cpu.delta, cpu.A, cpu.B, cpu.C, cpu.D, cpu.bias, plan_cpu, true);
      const at::Tensor got = vss::scan_2d(gpu.u, gpu.delta, gpu.A, gpu.B, gpu.C, gpu.D, gpu.bias, plan_gpu, true);
      EXPECT_LT(rel_err(got, want), tolerance(dtype))
          << H << "x" << W << " N=" << N << " " << c10::toString(dtype);
    }
  }
}

// Two directions over a 6-token map with -1 padding steps at the start, middle and end, a
// merge weight, and CPU inputs for them (batch 2, D = 3, N = 2).
struct PaddedPlan {
  at::Tensor index, weight;
  Inputs cpu;
};
constexpr int64_t kPaddedBatch = 2, kPaddedDim = 3, kPaddedTokens = 6;

PaddedPlan padded_plan() {
  PaddedPlan p;
  p.index = torch::tensor({0, 1, -1, 2, 3, 4, 5, -1, -1, -1, 5, 4, 3, -1, 2, 1, 0, -1}, torch::kInt)
                .reshape({2, 9});
  p.weight = torch::rand({kPaddedTokens}) + 0.5;
  p.cpu = plain_inputs(kPaddedBatch, 2, kPaddedDim, 2, kPaddedTokens, true);
  p.cpu.u = torch::randn({kPaddedBatch, kPaddedDim, kPaddedTokens});
  return p;
}

TEST(cuda_selective_scan_plan, merge_weight_and_padding_match_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(14);
  auto [index, weight, cpu] = padded_plan();
  const int64_t batch = kPaddedBatch, dim = kPaddedDim, HW = kPaddedTokens;
  const at::Tensor dy = torch::randn({batch, dim, HW});
  auto run = [&](const Inputs& proto, const at::Tensor& idx, const at::Tensor& w) {
    Inputs in = proto;
    for (at::Tensor* t : in.all()) *t = t->detach().clone().requires_grad_(true);
    at::Tensor y = vss::selective_scan_plan(in.u, in.delta, in.A, in.B, in.C, in.D, in.bias, idx,
                                            w, true);
    (y * dy.to(y.device()).to(y.scalar_type())).sum().backward();
    std::vector<at::Tensor> grads{y};
    for (at::Tensor* t : in.all()) grads.push_back(t->grad());
    return grads;
  };
  Inputs gpu = cpu;
  for (at::Tensor* t : gpu.all()) *t = t->to(kGpu);
  for (at::Tensor* t : cpu.all()) *t = t->to(torch::kDouble);
  const auto want = run(cpu, index, weight.to(torch::kDouble));
  const auto got = run(gpu, index.to(kGpu), weight.to(kGpu));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LT(rel_err(got[i], want[i]), 1e-5) << (i == 0 ? "y" : kNames[i - 1]);
}

TEST(cuda_selective_scan_plan, reruns_are_bit_identical) {
  REQUIRE_GPU();
  torch::manual_seed(15);
  const auto strategy = vss::make_scan_strategy("cross", {});
  for (int64_t side : {14, 56, 200}) {  // warp-per-direction, shared- and global-memory block paths
    const vss::ScanPlan& plan = vss::cached_plan(*strategy, side, side, kGpu);
    ImageInputs in = image_inputs(2, 8, 4, 1, side, side);
    for (at::Tensor* t : in.all()) *t = t->to(kGpu).to(t == &in.A || t == &in.D || t == &in.bias ? torch::kFloat : torch::kBFloat16);
    auto fwd = [&] { return vss::scan_2d(in.u, in.delta, in.A, in.B, in.C, in.D, in.bias, plan, true); };
    EXPECT_TRUE(torch::equal(fwd(), fwd())) << side;
  }
}

TEST(cuda_selective_scan_plan, split_sequences_match_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(18);
  const int64_t H = 97, W = 120;  // 11640 steps: 6 chunks of 2048
  for (const auto& [name, params] : strategies()) {
    const auto strategy = vss::make_scan_strategy(name, params);
    const vss::ScanPlan& plan_cpu = vss::cached_plan(*strategy, H, W);
    const vss::ScanPlan& plan_gpu = vss::cached_plan(*strategy, H, W, kGpu);
    for (int64_t N : {1, 4}) {
      ImageInputs base = image_inputs(1, 3, plan_cpu.K, N, H, W);
      base.A = slow_decay(plan_cpu.K * 3, N);
      // A merge weight on every token, as a strategy with repeated visits would have.
      const at::Tensor weight = torch::rand({H * W}) + 0.5;
      for (at::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
        auto [gpu, cpu] = image_to_devices(base, dtype);
        auto run = [](const ImageInputs& x, const at::Tensor& index, const at::Tensor& w) {
          return vss::selective_scan_plan(x.u.flatten(2), x.delta.flatten(2), x.A,
                                          x.B.flatten(3), x.C.flatten(3), x.D, x.bias, index, w,
                                          true);
        };
        const at::Tensor want = run(cpu, plan_cpu.index, weight.to(torch::kDouble));
        double bound = 0;  // as in the plain test: the unsplit kernel's own error sets it
        for (int segments : {1, 5, 0}) {
          const ScopedSplit split(segments);
          const std::string where = name + " N=" + std::to_string(N) + " " +
                                    c10::toString(dtype) + " segments=" + std::to_string(segments);
          const at::Tensor got = run(gpu, plan_gpu.index, weight.to(kGpu));
          EXPECT_EQ(got.scalar_type(), dtype) << where;
          const double err = rel_err(got, want);
          if (segments == 1) {
            EXPECT_LT(err, 10 * tolerance(dtype)) << where;
            bound = std::max(tolerance(dtype), 2 * err);
          }
          EXPECT_LE(err, bound) << where;
          if (segments == 5) {
            EXPECT_TRUE(torch::equal(got, run(gpu, plan_gpu.index, weight.to(kGpu)))) << where << " rerun";
          }
        }
      }
    }
  }
}

TEST(cuda_selective_scan_plan, bad_inputs_are_one_line_errors) {
  REQUIRE_GPU();
  const auto strategy = vss::make_scan_strategy("cross", {});
  const vss::ScanPlan& plan = vss::cached_plan(*strategy, 4, 5);
  Inputs in = plain_inputs(1, 4, 2, 1, 20, true);
  in.u = torch::randn({1, 2, 20});
  for (at::Tensor* t : in.all()) *t = t->to(kGpu);
  auto call = [&](const Inputs& x, const at::Tensor& index) {
    return [x, index] {
      vss::selective_scan_plan(x.u, x.delta, x.A, x.B, x.C, x.D, x.bias, index, std::nullopt, true);
    };
  };
  if (!vss::test::kEmulatedGpu) {  // device mixes, and float64 (which the emulator sends to the CPU)
    expect_one_line_error(call(in, plan.index), "index must be on u's device");  // CPU index, CUDA data
    Inputs mixed = in;
    mixed.B = mixed.B.cpu();
    expect_one_line_error(call(mixed, plan.index.to(kGpu)), "B must be on u's device");
    Inputs dbl = in;
    for (at::Tensor* t : dbl.all()) *t = t->to(torch::kDouble);
    expect_one_line_error(call(dbl, plan.index.to(kGpu)), "float64");
  }
  Inputs wide = in;
  wide.A = torch::randn({8, 17}, kGpu);
  wide.B = torch::randn({1, 4, 17, 20}, kGpu);
  wide.C = wide.B;
  expect_one_line_error(call(wide, plan.index.to(kGpu)), "N <= 16");
  // Out-of-range ids on the GPU read nothing (no illegal access); the result stays finite.
  at::Tensor bad = plan.index.clone();
  bad[0][3] = 1 << 30;
  bad[2][0] = -7;
  const at::Tensor y = vss::selective_scan_plan(in.u, in.delta, in.A, in.B, in.C, in.D, in.bias,
                                                bad.to(kGpu), std::nullopt, true);
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  if (vss::test::kEmulatedGpu) return;
  // The plain op: a CPU tensor among CUDA ones.
  Inputs plain = plain_inputs(1, 1, 3, 1, 10, true);
  for (at::Tensor* t : plain.all()) *t = t->to(kGpu);
  plain.C = plain.C.cpu();
  expect_one_line_error([&] { vss::selective_scan(plain.u, plain.delta, plain.A, plain.B, plain.C); },
               "C must be on u's device");
}

// ---- the channel-last plan op (inference) ----------------------------------------------

// Image inputs channel-last, as scan_2d_channels_last takes them.
ImageInputs channels_last(const ImageInputs& x) {
  ImageInputs out = x;
  out.u = x.u.permute({0, 2, 3, 1}).contiguous();
  out.delta = x.delta.permute({0, 2, 3, 1}).contiguous();
  out.B = x.B.permute({0, 3, 4, 1, 2}).contiguous();
  out.C = x.C.permute({0, 3, 4, 1, 2}).contiguous();
  return out;
}

TEST(cuda_selective_scan_plan_channels_last, matches_cpu_for_every_strategy) {
  REQUIRE_GPU();
  torch::manual_seed(21);
  // L = 1, a row, a column, N = 4 and 16, and 97×120 (11640 steps): 40 channels (a full and a
  // ragged tile of 32), unsplit, forced into 5 segments, and the default (split at this batch).
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> shapes{
      {1, 1, 1}, {1, 37, 1}, {37, 1, 2}, {7, 9, 4}, {7, 9, 16}, {33, 40, 1}, {97, 120, 1}};
  for (const auto& [name, params] : strategies()) {
    const auto strategy = vss::make_scan_strategy(name, params);
    for (const auto& [H, W, N] : shapes) {
      const vss::ScanPlan& plan_cpu = vss::cached_plan(*strategy, H, W);
      const vss::ScanPlan& plan_gpu = vss::cached_plan(*strategy, H, W, kGpu);
      ImageInputs base = image_inputs(2, 40, plan_cpu.K, N, H, W);
      if (H * W > 1000) base.A = slow_decay(plan_cpu.K * 40, N);  // long-range state matters
      for (at::ScalarType dtype : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
        auto [gpu, cpu] = image_to_devices(base, dtype);
        const at::Tensor want =
            vss::scan_2d(cpu.u, cpu.delta, cpu.A, cpu.B, cpu.C, cpu.D, cpu.bias, plan_cpu, true);
        const ImageInputs cl = channels_last(gpu);
        auto run = [&] {
          return vss::scan_2d_channels_last(cl.u, cl.delta, cl.A, cl.B, cl.C, cl.D, cl.bias,
                                            plan_gpu, true);
        };
        double bound = 0;  // the unsplit kernel's own error bounds the split ones (as above)
        for (int segments : {1, 5, 0}) {
          const ScopedSplit split(segments);
          const std::string where = name + " " + std::to_string(H) + "x" + std::to_string(W) +
                                    " N=" + std::to_string(N) + " " + c10::toString(dtype) +
                                    " segments=" + std::to_string(segments);
          const at::Tensor got = run();
          ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2, H, W, 40})) << where;
          EXPECT_EQ(got.scalar_type(), dtype) << where;
          const double err = rel_err(got.permute({0, 3, 1, 2}), want);
          if (segments == 1) {  // slow decays over 11640 steps: float32 drifts past 1e-5
            EXPECT_LT(err, (H * W > 1000 ? 10 : 1) * tolerance(dtype)) << where;
            bound = std::max(tolerance(dtype), 2 * err);
          }
          EXPECT_LE(err, bound) << where;
          if (segments != 1) {
            EXPECT_TRUE(torch::equal(got, run())) << where << " rerun";
          }
        }
      }
    }
  }
}

TEST(cuda_selective_scan_plan_channels_last, merge_weight_padding_and_float_out_match_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(22);
  auto [index, weight, cpu] = padded_plan();
  for (at::Tensor* t : cpu.all()) *t = t->to(torch::kDouble);
  const at::Tensor want = vss::selective_scan_plan(cpu.u, cpu.delta, cpu.A, cpu.B, cpu.C, cpu.D,
                                                   cpu.bias, index, weight.to(torch::kDouble), true);
  for (at::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
    auto dev = [&](const at::Tensor& t, bool data) {
      return (data ? t.to(dtype) : t.to(torch::kFloat)).to(kGpu);
    };
    for (int segments : {1, 3}) {
      const ScopedSplit split(segments);
      const at::Tensor got = vss::selective_scan_plan_channels_last(
          dev(cpu.u.transpose(1, 2).contiguous(), true), dev(cpu.delta.transpose(1, 2).contiguous(), true),
          dev(cpu.A, false), dev(cpu.B.permute({0, 3, 1, 2}).contiguous(), true),
          dev(cpu.C.permute({0, 3, 1, 2}).contiguous(), true), dev(cpu.D, false), dev(cpu.bias, false),
          index.to(kGpu), weight.to(kGpu), true, torch::kFloat);
      EXPECT_EQ(got.scalar_type(), torch::kFloat);
      // bf16 inputs against float64 ones: the inputs' own rounding sets the tolerance.
      EXPECT_LT(rel_err(got.transpose(1, 2), want), dtype == torch::kFloat ? 1e-5 : 2e-2)
          << c10::toString(dtype) << " segments=" << segments;
    }
  }
}

TEST(cuda_selective_scan_plan_channels_last, bad_inputs_are_one_line_errors) {
  REQUIRE_GPU();
  const auto strategy = vss::make_scan_strategy("cross", {});
  const vss::ScanPlan& plan = vss::cached_plan(*strategy, 4, 5);
  ImageInputs in = channels_last(image_inputs(1, 2, 4, 1, 4, 5));
  for (at::Tensor* t : in.all()) *t = t->to(kGpu);
  auto call = [](const ImageInputs& x, const at::Tensor& index) {
    return [x, index] {
      vss::selective_scan_plan_channels_last(x.u.flatten(1, 2), x.delta.flatten(1, 2), x.A,
                                             x.B.flatten(1, 2), x.C.flatten(1, 2), x.D, x.bias,
                                             index, std::nullopt, true);
    };
  };
  if (!vss::test::kEmulatedGpu) {  // device mixes, and float64 (which the emulator sends to the CPU)
    expect_one_line_error(call(in, plan.index), "index must be on u's device");  // CPU index
    ImageInputs dbl = in;
    for (at::Tensor* t : dbl.all()) *t = t->to(torch::kDouble);
    expect_one_line_error(call(dbl, plan.index.to(kGpu)), "float64");
  }
  ImageInputs channel_first = in;
  channel_first.delta = in.delta.permute({0, 3, 1, 2}).contiguous();
  expect_one_line_error(call(channel_first, plan.index.to(kGpu)), "delta must have shape");
  // A plan for another map size, through the scans layer.
  const vss::ScanPlan& other = vss::cached_plan(*strategy, 5, 4, kGpu);
  expect_one_line_error([&] {
    vss::scan_2d_channels_last(in.u, in.delta, in.A, in.B, in.C, in.D, in.bias, other, true);
  }, "plan is for 5x4");
  // Out-of-range ids read nothing (no illegal access); the result stays finite.
  at::Tensor bad = plan.index.clone();
  bad[0][3] = 1 << 30;
  bad[2][0] = -7;
  EXPECT_TRUE(torch::isfinite(vss::selective_scan_plan_channels_last(
                                  in.u.flatten(1, 2), in.delta.flatten(1, 2), in.A,
                                  in.B.flatten(1, 2), in.C.flatten(1, 2), in.D, in.bias,
                                  bad.to(kGpu), std::nullopt, true))
                  .all()
                  .item<bool>());
}

}  // namespace
