// Restoration on the GPU (skipped without one; builds without OpenCV): the published
// MambaIR-light x2 and MaIR-T x2 networks give the CPU's output on CUDA (fp32) and close to it
// under bf16 autocast; seam tiles on CUDA match the whole image within 1e-3 as on the CPU;
// the restoration task trains in bf16 from an image bank (no codec needed) and resumes
// bit-for-bit on the GPU.
#include "core/config.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "engine/mixed_precision.h"
#include "engine/trainer.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/tiled_inference.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

restore::RestorationNet published(const std::string& name) {
  torch::manual_seed(0);
  auto net = restore::make_restoration_net(Config::load(source_dir() / "configs/restore" / name)["model"]);
  net->eval();
  return net;
}

at::Tensor smooth_input(int64_t h, int64_t w) {
  torch::manual_seed(3);
  const at::Tensor y = torch::arange(h, torch::kFloat).view({1, 1, h, 1});
  const at::Tensor x = torch::arange(w, torch::kFloat).view({1, 1, 1, w});
  const at::Tensor c = torch::arange(3, torch::kFloat).view({1, 3, 1, 1});
  return (0.5 + 0.35 * torch::sin(0.21 * x + 0.13 * y + c) + 0.05 * torch::randn({1, 3, h, w})).clamp(0, 1);
}

TEST(RestoreCuda, NetworksMatchTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  c10::InferenceMode inference;
  const ScopedNoTf32 float32;  // TF32 convolutions alone differ from the CPU by ~7e-4
  for (const char* name : {"mambair_light_x2.yaml", "mair_t_light_x2.yaml"}) {
    auto net = published(name);
    const at::Tensor x = smooth_input(37, 45);
    const at::Tensor cpu = net->forward(x);
    net->to(torch::kCUDA);
    const at::Tensor gpu = net->forward(x.cuda()).cpu();
    EXPECT_LT(max_abs_diff(gpu, cpu), 1e-4) << name;
    at::Tensor bf16;
    {
      AutocastScope autocast(c10::Device("cuda"), at::kBFloat16);
      bf16 = net->forward(x.cuda()).to(torch::kFloat).cpu();
    }
    EXPECT_LT((bf16 - cpu).abs().mean().item<double>(), 1e-2) << name;
  }
}

TEST(RestoreCuda, SeamTilesMatchTheWholeImage) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  c10::InferenceMode inference;
  auto net = published("mambair_light_x2.yaml");
  net->to(torch::kCUDA);
  const at::Tensor x = smooth_input(96, 80).cuda();
  const auto run = [&](const at::Tensor& t) { return net->forward(t); };
  const at::Tensor whole = net->forward(x);
  const at::Tensor tiled = restore::tiled_forward(run, x, 2, {48, 16, restore::TileBlend::kSeam});
  EXPECT_LT(max_abs_diff(tiled, whole), 1e-3);
}

TEST(RestoreCuda, TaskTrainsInBf16FromABankAndResumes) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const fs::path dir = make_temp_dir("vss_restore_cuda");
  torch::manual_seed(5);
  auto image = [](int64_t h, int64_t w) { return torch::randint(0, 256, {h, w, 3}, torch::kInt).to(torch::kByte); };
  write_safetensors(dir / "bank.safetensors", {{"train/a", image(40, 36)}, {"train/b", image(33, 45)}, {"val/c", image(28, 30)}},
                    {{"format", "vss-image-bank"}, {"version", "1"}});
  Config c = Config::parse("task: {type: restoration, gt_size: 16, degradation: {type: bicubic, scale: 2}}\n"
                           "data: {bank: " + (dir / "bank.safetensors").string() + ", train: {gt: train, repeat: 4}, val: {gt: val}}\n"
                           "optimizer: {type: adamw, lr: 0.001}\n"
                           "train: {steps: 8, batch_size: 4, log_every: 2, checkpoint_every: 4, precision: bf16}\n");
  c.apply_override("model=" + Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml")["model"].dump());
  TrainerOptions o;
  o.device = "cuda";
  o.progress = false;
  o.run_dir = dir / "straight";
  const TrainResult straight = train(c, o);
  EXPECT_TRUE(std::isfinite(straight.last_loss));
  EXPECT_TRUE(straight.has_metric);

  Config half = Config::parse(c.dump());
  half.apply_override("train.steps=4");
  o.run_dir = dir / "resumed";
  train(half, o);
  o.resume = true;
  const TrainResult resumed = train(c, o);
  EXPECT_EQ(resumed.last_loss, straight.last_loss);
  EXPECT_EQ(resumed.last_metric, straight.last_metric);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
