// Change detection on the GPU: MambaBCD's and MambaSCD's logits (whole and tiled) equal the
// CPU reference's, bf16 autocast maps agree with fp32 ones, and both change tasks train in bf16.
#include "core/config.h"
#include "core/remove_tree.h"
#include "engine/mixed_precision.h"
#include "engine/trainer.h"
#include "heads/change/change_inference.h"
#include "heads/change/mamba_scd.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <utility>

namespace vss::test {
namespace {

Config test_model() { return Config::load(source_dir() / "configs/change/mambabcd_test.yaml"); }
Config semantic_test_model() { return Config::load(source_dir() / "configs/change/mambascd_test.yaml"); }

// The fraction of equal entries of two maps.
double agreement(const at::Tensor& a, const at::Tensor& b) {
  return a.cpu().eq(b.cpu()).to(torch::kFloat).mean().item<double>();
}

// Trains `task` with the given data node for 40 bf16 steps on the GPU; the loss must fall.
void expect_bf16_training_lowers_the_loss(const std::string& task, const std::string& data, const Config& model) {
  const auto dir = make_temp_dir("vss_change_cuda");
  Config c = Config::parse(
      "task: " + task + "\n"
      "data: " + data + "\n"
      "optimizer: {type: adamw, lr: 0.004, weight_decay: 0.0}\n"
      "train: {steps: 40, batch_size: 8, seed: 5, log_every: 10, eval_every: 0, checkpoint_every: 0, precision: bf16}\n");
  c.apply_override("model=" + model.dump());
  TrainerOptions o;
  o.run_dir = dir / "run";
  o.device = "cuda";
  o.progress = false;
  const auto r = train(c, o);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  EXPECT_LT(r.last_loss, r.first_loss);
  remove_tree(dir);
}

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
  EXPECT_GT(agreement(change::change_mask(bf16), change::change_mask(cpu_whole)), 0.95);
}

TEST(ChangeCuda, TaskTrainsInBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  expect_bf16_training_lowers_the_loss("{type: change, eval_batch_size: 8}",
                                       "{type: synthetic_change, image_size: 40, crop: 32, hflip: true, rotate: "
                                       "true, train: {num: 500, seed: 1}, val: {num: 8, seed: 2}}",
                                       test_model());
}

TEST(ChangeCuda, SemanticInferenceMatchesTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(0);
  auto model = change::make_mamba_scd(semantic_test_model());
  model->eval();
  torch::NoGradGuard no_grad;
  const auto pre = torch::randint(0, 256, {2, 3, 40, 56}).to(torch::kByte);
  const auto post = torch::randint(0, 256, {2, 3, 40, 56}).to(torch::kByte);
  const change::ChangeInferenceOptions tiled{16, 12, 4};
  const auto cpu_whole = change::semantic_change_logits(*model, pre, post);
  const auto cpu_tiled = change::semantic_change_logits(*model, pre, post, tiled);
  model->to(torch::kCUDA);
  const auto gpu_whole = change::semantic_change_logits(*model, pre.cuda(), post.cuda());
  const auto gpu_tiled = change::semantic_change_logits(*model, pre.cuda(), post.cuda(), tiled);
  for (const auto& [gpu, cpu] : {std::pair{gpu_whole, cpu_whole}, std::pair{gpu_tiled, cpu_tiled}}) {
    EXPECT_LT(max_abs_diff(gpu.change, cpu.change), 1e-3);
    EXPECT_LT(max_abs_diff(gpu.t1, cpu.t1), 1e-3);
    EXPECT_LT(max_abs_diff(gpu.t2, cpu.t2), 1e-3);
  }
  change::SemanticChangeLogits bf16;
  {
    AutocastScope autocast(c10::Device(torch::kCUDA), at::kBFloat16);
    bf16 = change::semantic_change_logits(*model, pre.cuda(), post.cuda());
  }
  const auto ours = change::semantic_change_maps(bf16), reference = change::semantic_change_maps(cpu_whole);
  EXPECT_GT(agreement(ours.change, reference.change), 0.95);
  EXPECT_GT(agreement(ours.label1, reference.label1), 0.9);
  EXPECT_GT(agreement(ours.label2, reference.label2), 0.9);
}

TEST(ChangeCuda, SemanticTaskTrainsInBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  expect_bf16_training_lowers_the_loss("{type: semantic_change}",
                                       "{type: synthetic_semantic_change, image_size: 40, crop: 32, hflip: true, "
                                       "rotate: true, train: {num: 200, seed: 1}, val: {num: 4, seed: 2}}",
                                       semantic_test_model());
}

}  // namespace
}  // namespace vss::test
