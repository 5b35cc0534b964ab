// Segmentation on the GPU: a UPerNet (+ auxiliary head) on the tiny test backbone gives the
// CPU's logits (whole and slide, the fused scan on CUDA vs the CPU reference), bf16 autocast
// agrees on almost every pixel, and the segmentation task trains on CUDA in bf16.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/remove_tree.h"
#include "engine/mixed_precision.h"
#include "engine/trainer.h"
#include "heads/seg/seg_prediction.h"
#include "heads/seg/segmentor.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace vss::test {
namespace {

Config model_config() {
  Config c = Config::parse("type: upernet\nnum_classes: 5\ndecode_head: {channels: 8}\nauxiliary_head: {in_index: 2, channels: 6}",
                           "model");
  c.apply_override("backbone=" + Config::load(source_dir() / "configs/backbones/vss_tiny_test.yaml").dump());
  c.apply_override("backbone.type=vssm_backbone");
  return c;
}

TEST(SegmentationCuda, LogitsMatchTheCpuWholeAndSlide) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(1);
  seg::Segmentor cpu = seg::make_segmentor(model_config()), gpu = seg::make_segmentor(model_config());
  load_state(*gpu, model_state(*cpu), "the CPU model");
  cpu->eval();
  gpu->to(torch::kCUDA);
  gpu->eval();
  c10::InferenceMode guard;
  const at::Tensor images = torch::randint(0, 256, {2, 3, 45, 61}, torch::kByte);
  const SegPipeline none;
  seg::InferenceOptions whole, slide;
  slide.mode = "slide";
  slide.crop_h = slide.crop_w = 32;
  slide.stride_h = slide.stride_w = 21;
  for (const auto* o : {&whole, &slide}) {
    const at::Tensor a = seg::segment_logits(*cpu, images, none, *o);
    const at::Tensor b = seg::segment_logits(*gpu, images, none, *o).cpu();
    EXPECT_LT(max_abs_diff(a, b), 1e-3 * std::max(1.0, a.abs().max().item<double>())) << o->mode;
    at::Tensor bf;
    {
      AutocastScope autocast(c10::Device("cuda"), at::kBFloat16);
      bf = seg::segment_logits(*gpu, images, none, *o).cpu();
    }
    EXPECT_TRUE(torch::isfinite(bf).all().item<bool>());
    EXPECT_GT(bf.argmax(1).eq(a.argmax(1)).to(torch::kFloat).mean().item<float>(), 0.9) << o->mode;
  }
}

TEST(SegmentationCuda, TaskTrainsInBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  Config c = Config::parse(
      "task: {type: segmentation, eval_batch_size: 8}\n"
      "data: {type: synthetic_scenes, image_size: 32, train: {size: 400, seed: 1}, val: {size: 8, seed: 2}, "
      "pipeline: {scale: [48, 32], ratio_range: [0.75, 1.25], crop_size: [32, 32], flip_prob: 0.5, photometric: true}}\n"
      "optimizer: {type: adamw, lr: 0.01, weight_decay: 0.0}\n"
      "train: {steps: 40, batch_size: 8, seed: 3, log_every: 5, eval_every: 0, checkpoint_every: 0, precision: bf16}\n");
  c.apply_override("model=" + model_config().dump());
  const auto dir = make_temp_dir("vss_seg_cuda");
  TrainerOptions o;
  o.run_dir = dir;
  o.progress = false;
  o.device = "cuda";
  const auto r = train(c, o);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  EXPECT_LT(r.last_loss, r.first_loss);
  EXPECT_GE(r.last_metric, 0.0);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
