// Classification on the GPU (skipped without one): a classifier loaded by vss-classify's loader
// gives the CPU's logits on CUDA in float32 and close to them under bf16 autocast, as
// `vss-classify eval --device cuda --dtype bf16` runs it; the eval transform is the CPU's.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/remove_tree.h"
#include "engine/classifier_loader.h"
#include "engine/mixed_precision.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

TEST(ClassifyCuda, LogitsMatchTheCpuInFloat32AndBf16) {
  if (kEmulatedGpu || !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto dir = make_temp_dir("vss_classify_cuda");
  const Config config = Config::load(source_dir() / "configs/backbones/vss_tiny_test.yaml");
  torch::manual_seed(0);
  const std::string weights = (dir / "w.safetensors").string();
  save_weights(*make_backbone(config), weights, {{"model", config.dump()}});
  ClassifierRequest request;
  request.weights = weights;
  Classifier c = load_classifier(request);
  c.pipeline.size = 32;
  c.pipeline.crop_pct = 1.0;
  std::vector<at::Tensor> images;
  for (int i = 0; i < 6; ++i) images.push_back(c.pipeline.eval(torch::randint(0, 256, {40, 30 + 4 * i, 3}, torch::kByte)));
  const at::Tensor batch = torch::stack(images);
  c.model->eval();
  c10::InferenceMode inference;
  const at::Tensor cpu = c.model->forward(batch);
  c.model->to(torch::kCUDA);
  ScopedNoTf32 fp32;
  const at::Tensor gpu = c.model->forward(batch.cuda()).cpu();
  EXPECT_LT(max_abs_diff(gpu, cpu), 1e-3);
  at::Tensor bf16;
  {
    AutocastScope autocast(c10::Device(c10::kCUDA), at::kBFloat16);
    bf16 = c.model->forward(batch.cuda()).to(at::kCPU, at::kFloat);
  }
  EXPECT_LT(max_rel_diff(bf16, cpu), 3e-2);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
