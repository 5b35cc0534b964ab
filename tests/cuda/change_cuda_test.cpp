// Change detection on the GPU: MambaBCD logits (whole and tiled) equal the CPU reference's,
// bf16 autocast masks agree with fp32 ones, and the change task trains in bf16.
#include "core/config.h"
#include "core/remove_tree.h"
#include "engine/mixed_precision.h"
#include "engine/trainer.h"
#include "heads/change/change_inference.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace vss::test {
namespace {

Config test_model() { return Config::load(source_dir() / "configs/change/mambabcd_test.yaml"); }

TEST(ChangeCuda, InferenceMatchesTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(0);
  auto model = change::make_mamba_bcd(test_model());
  model->eval();
  torch::NoGradGuard no_grad;
  const auto pre = torch::randint(0, 256, {2, 3, 40, 56}).to(torch::kByte);
  const auto post = torch::randint(0, 256, {2, 3, 40, 56}).to(torch::kByte);
  const change::ChangeInferenceOptions tiled{16, 12, 4};
  const auto cpu_whole = change::change_logits(*model, pre, post);
  const auto cpu_tiled = change::change_logits(*model, pre, post, tiled);
  model->to(torch::kCUDA);
  const auto gpu_whole = change::change_logits(*model, pre.cuda(), post.cuda());
  const auto gpu_tiled = change::change_logits(*model, pre.cuda(), post.cuda(), tiled);
  EXPECT_LT(max_abs_diff(gpu_whole, cpu_whole), 1e-3);
  EXPECT_LT(max_abs_diff(gpu_tiled, cpu_tiled), 1e-3);
  at::Tensor bf16;
  {
    AutocastScope autocast(c10::Device(torch::kCUDA), at::kBFloat16);
    bf16 = change::change_logits(*model, pre.cuda(), post.cuda());
  }
  const double agree =
      change::change_mask(bf16).cpu().eq(change::change_mask(cpu_whole)).to(torch::kFloat).mean().item<double>();
  EXPECT_GT(agree, 0.95);
}

TEST(ChangeCuda, TaskTrainsInBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto dir = make_temp_dir("vss_change_cuda");
  Config c = Config::parse(
      "task: {type: change, eval_batch_size: 8}\n"
      "data: {type: synthetic_change, image_size: 40, crop: 32, hflip: true, rotate: true, "
      "train: {num: 500, seed: 1}, val: {num: 8, seed: 2}}\n"
      "optimizer: {type: adamw, lr: 0.004, weight_decay: 0.0}\n"
      "train: {steps: 40, batch_size: 8, seed: 5, log_every: 10, eval_every: 0, checkpoint_every: 0, precision: bf16}\n");
  c.apply_override("model=" + test_model().dump());
  TrainerOptions o;
  o.run_dir = dir / "run";
  o.device = "cuda";
  o.progress = false;
  const auto r = train(c, o);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  EXPECT_LT(r.last_loss, r.first_loss);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
