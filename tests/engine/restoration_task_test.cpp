// The restoration task: paired crops found back in the GT / LR images by an exhaustive
// search over positions and the 8 flips/rotations (alignment and scale checked without the
// task's own crop code); batches are a pure function of the seed; noise has σ/255; the
// validation PSNR of an identity denoiser equals numpy's PSNR of the same seeded noisy
// images (torch.normal in Python); short training lowers the loss and resumes exactly; bad
// configs are errors naming the key. Data come from an image bank written here, so no
// codec is needed (except for the JPEG case).
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "datasets/degradations.h"
#include "datasets/image_tensor.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

namespace fs = std::filesystem;

namespace vss::test {
namespace {

// Textured images of a given size: smooth waves plus fine noise, so every crop is unique.
at::Tensor texture(int64_t h, int64_t w, int64_t seed) {
  torch::manual_seed(seed);
  const at::Tensor y = torch::arange(h, torch::kDouble).view({h, 1, 1});
  const at::Tensor x = torch::arange(w, torch::kDouble).view({1, w, 1});
  const at::Tensor c = torch::arange(3, torch::kDouble).view({1, 1, 3});
  const at::Tensor base = 127 + 80 * torch::sin(0.3 * x + 0.2 * y + c + static_cast<double>(seed));
  return (base + 30 * torch::rand({h, w, 3}, torch::kDouble)).clamp(0, 255).round().to(torch::kByte);
}

class RestorationTaskTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("vss-restoration-task");
    bank_ = dir_ / "bank.safetensors";
    write_safetensors(bank_,
                      {{"train/a", texture(40, 36, 1)}, {"train/b", texture(33, 45, 2)},
                       {"val/c", texture(28, 30, 3)}, {"val/d", texture(24, 26, 4)}},
                      {{"format", "vss-image-bank"}, {"version", "1"}});
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  // The tiny MambaIR (x2) or its denoising variant, data from the bank.
  Config config(const std::string& task, bool denoise = false) const {
    Config c = Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml");
    Config root = Config::parse("task: " + task + "\ndata: {bank: " + bank_.string() +
                                    ", train: {gt: train, repeat: 3}, val: {gt: val}}\n"
                                    "optimizer: {type: adamw, lr: 0.002, weight_decay: 0.0}\n"
                                    "train: {steps: 6, batch_size: 4, log_every: 2, eval_every: 3, checkpoint_every: 3}\n",
                                "test.yaml");
    root.apply_override("model=" + c["model"].dump());
    if (denoise) {
      root.apply_override("model.upscale=1");
      root.apply_override("model.upsampler=none");
    }
    return root;
  }
  fs::path dir_, bank_;
};

// The 8 dihedral variants of a [C, H, W] tensor, as (hflip, vflip, transpose) in that order.
std::vector<at::Tensor> dihedral(const at::Tensor& t) {
  std::vector<at::Tensor> out;
  for (int k = 0; k < 8; ++k) {
    at::Tensor v = t;
    if (k & 1) v = v.flip(-1);
    if (k & 2) v = v.flip(-2);
    if (k & 4) v = v.transpose(-1, -2);
    out.push_back(v);
  }
  return out;
}

// Where `patch` [C, p, p] lies in `image` [C, H, W] under variant k: (k, top, left) or k = -1.
std::tuple<int, int64_t, int64_t> find_patch(const at::Tensor& image, const at::Tensor& patch) {
  const int64_t p = patch.size(1);
  for (int k = 0; k < 8; ++k) {
    // Undo the variant on the patch: transpose, vflip, hflip are their own inverses, applied in reverse.
    at::Tensor u = patch;
    if (k & 4) u = u.transpose(-1, -2);
    if (k & 2) u = u.flip(-2);
    if (k & 1) u = u.flip(-1);
    for (int64_t r = 0; r + p <= image.size(1); ++r)
      for (int64_t c = 0; c + p <= image.size(2); ++c)
        if (torch::equal(image.slice(1, r, r + p).slice(2, c, c + p), u)) return {k, r, c};
  }
  return {-1, 0, 0};
}

TEST_F(RestorationTaskTest, SrCropsAreAlignedPairsOfGtAndBicubicLr) {
  const auto task = make_task(config("{type: restoration, gt_size: 12, degradation: {type: bicubic, scale: 2}}"),
                              c10::Device("cpu"));
  EXPECT_EQ(task->train_size(), 6);  // 2 images x repeat 3
  EXPECT_EQ(task->metric_name(), "psnr_y");
  const Batch b = task->train_batch({0, 1, 2, 3, 4, 5}, 99);
  ASSERT_EQ(b.inputs.sizes(), (std::vector<int64_t>{6, 3, 6, 6}));
  ASSERT_EQ(b.targets.sizes(), (std::vector<int64_t>{6, 3, 12, 12}));
  const std::vector<at::Tensor> gts{texture(40, 36, 1), texture(33, 45, 2)};
  std::set<int> variants;
  for (int64_t j = 0; j < 6; ++j) {
    const at::Tensor& gt_full = gts[j % 2];
    const at::Tensor gt = mod_crop(gt_full, 2).permute({2, 0, 1});
    const at::Tensor lr = bicubic_downsample(gt_full, 2).permute({2, 0, 1});
    const at::Tensor target = (b.targets[j] * 255).round().to(torch::kByte);
    const at::Tensor input = (b.inputs[j] * 255).round().to(torch::kByte);
    const auto [k, top, left] = find_patch(gt, target);
    ASSERT_GE(k, 0) << "target " << j << " is no crop of its GT";
    EXPECT_EQ(top % 2, 0);
    EXPECT_EQ(left % 2, 0);
    const at::Tensor lr_crop = lr.slice(1, top / 2, top / 2 + 6).slice(2, left / 2, left / 2 + 6);
    EXPECT_TRUE(torch::equal(input, dihedral(lr_crop)[k])) << "input " << j << " is not the LR crop under the same flip";
    variants.insert(k);
  }
  EXPECT_GT(variants.size(), 1u);  // flips and rotations are drawn
  // A pure function of the seed.
  const Batch again = task->train_batch({0, 1, 2, 3, 4, 5}, 99);
  EXPECT_TRUE(torch::equal(again.inputs, b.inputs));
  EXPECT_FALSE(torch::equal(task->train_batch({0, 1, 2, 3, 4, 5}, 100).inputs, b.inputs));
}

TEST_F(RestorationTaskTest, NoiseOnCropsHasSigma) {
  const auto task = make_task(config("{type: restoration, gt_size: 16, degradation: {type: noise, sigma: 25}}", true),
                              c10::Device("cpu"));
  EXPECT_EQ(task->metric_name(), "psnr");
  const Batch b = task->train_batch({0, 1, 2, 3, 4, 5, 0, 1}, 5);
  ASSERT_EQ(b.inputs.sizes(), b.targets.sizes());
  const at::Tensor n = (b.inputs - b.targets).to(torch::kDouble);
  EXPECT_NEAR(n.std().item<double>(), 25.0 / 255.0, 0.05 * 25.0 / 255.0);
  EXPECT_NEAR(n.mean().item<double>(), 0.0, 0.005);
}

TEST_F(RestorationTaskTest, JpegInputsAreCompressedCrops) {
  if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
  const auto task = make_task(config("{type: restoration, gt_size: 16, degradation: {type: jpeg, quality: 20}}", true),
                              c10::Device("cpu"));
  const Batch b = task->train_batch({0, 1}, 3);
  for (int64_t j = 0; j < 2; ++j) {
    const at::Tensor target = float_to_image(b.targets[j], torch::kByte);
    EXPECT_TRUE(torch::equal(float_to_image(b.inputs[j], torch::kByte), jpeg_compress(target, 20))) << j;
  }
}

// With conv_last zeroed the denoiser is the identity, so the validation PSNR is that of the
// noisy input: computed here by numpy from torch.normal seeded like the task (val_seed 0).
TEST_F(RestorationTaskTest, ValidationPsnrOfIdentityEqualsNumpyOnSeededNoise) {
  if (!python_has({"torch", "numpy"})) GTEST_SKIP() << "python torch + numpy not available";
  const auto task = make_task(config("{type: restoration, gt_size: 16, degradation: {type: noise, sigma: 15}}", true),
                              c10::Device("cpu"));
  for (auto& p : task->model().named_parameters())
    if (p.key().rfind("conv_last.", 0) == 0) p.value().detach().zero_();
  const double ours = task->evaluate();
  std::ostringstream args;
  const std::vector<at::Tensor> val{texture(28, 30, 3), texture(24, 26, 4)};
  std::string out;
  std::vector<std::string> argv;
  for (size_t i = 0; i < val.size(); ++i) {
    std::ostringstream s;
    s << 0 << ' ' << val[i].size(0) << ' ' << val[i].size(1);
    const at::Tensor flat = val[i].reshape(-1);
    for (int64_t k = 0; k < flat.numel(); ++k) s << ' ' << flat[k].item<int>();
    argv.push_back(s.str());
  }
  ASSERT_EQ(run_python("import sys, torch, numpy as np\n"
                       "ps = []\n"
                       "for arg in sys.argv[1:]:\n"
                       "    v = arg.split(); seed, h, w = int(v[0]), int(v[1]), int(v[2])\n"
                       "    gt = np.array(v[3:], np.float64).reshape(h, w, 3)\n"
                       "    x = torch.from_numpy((gt / 255).astype(np.float32)).permute(2, 0, 1)\n"
                       "    g = torch.Generator().manual_seed(seed)\n"
                       "    noisy = (x + torch.normal(0.0, 15 / 255.0, x.shape, generator=g)).numpy()\n"
                       "    q = np.round(np.clip(noisy, 0, 1).astype(np.float32) * np.float32(255)).transpose(1, 2, 0)\n"
                       "    ps.append(10 * np.log10(255.0 ** 2 / np.mean((q - gt) ** 2)))\n"
                       "print(repr(float(np.mean(ps))))",
                       argv, &out),
            0)
      << out;
  EXPECT_NEAR(ours, std::stod(out), 1e-9);
  EXPECT_GT(ours, 20.0);
  EXPECT_LT(ours, 28.0);  // σ 15 noise: about 24.6 dB
}

TEST_F(RestorationTaskTest, TrainingLowersTheLossAndResumesExactly) {
  const Config c = config("{type: restoration, gt_size: 12, degradation: {type: bicubic, scale: 2}, loss: {type: charbonnier}}");
  TrainerOptions once;
  once.run_dir = dir_ / "once";
  once.progress = false;
  const TrainResult full = train(c, once);
  EXPECT_EQ(full.steps_done, 6);
  EXPECT_TRUE(full.has_metric);
  EXPECT_GT(full.last_metric, 10.0);  // psnr_y in dB

  TrainerOptions split = once;
  split.run_dir = dir_ / "split";
  Config half = Config::parse(c.dump());  // copies of a Config share its tree
  half.apply_override("train.steps=3");
  train(half, split);
  split.resume = true;
  const TrainResult resumed = train(c, split);
  EXPECT_EQ(resumed.steps_done, 6);
  EXPECT_EQ(resumed.last_metric, full.last_metric);
  EXPECT_EQ(resumed.last_loss, full.last_loss);

  // 40 steps on these images lower the loss clearly.
  Config longer = Config::parse(c.dump());
  longer.apply_override("train.steps=40");
  longer.apply_override("train.log_every=10");
  longer.apply_override("train.eval_every=0");
  longer.apply_override("train.checkpoint_every=0");
  TrainerOptions more = once;
  more.run_dir = dir_ / "more";
  const TrainResult r = train(longer, more);
  EXPECT_LT(r.last_loss, 0.8 * r.first_loss) << r.first_loss << " -> " << r.last_loss;
}

TEST_F(RestorationTaskTest, BadConfigsNameTheKey) {
  auto expect_error = [&](const Config& c, const std::string& needle) {
    try {
      make_task(c, c10::Device("cpu"));
      ADD_FAILURE() << "no error, expected one naming " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(config("{type: restoration, gt_size: 12, degradation: {type: bicubic, scale: 4}}"), "task.degradation");
  expect_error(config("{type: restoration, gt_size: 13, degradation: {type: bicubic, scale: 2}}"), "task.gt_size");
  expect_error(config("{type: restoration, gt_size: 80, degradation: {type: bicubic, scale: 2}}"), "smaller than the patch");
  expect_error(config("{type: restoration, gt_size: 12, degradation: {type: bicubic, scale: 2}, loss: {type: l2}}"),
               "task.loss.type");
  expect_error(config("{type: restoration, gt_size: 12, degradation: {type: noise, sigma: 5}}"), "upscale");
  Config c = config("{type: restoration, gt_size: 12, degradation: {type: bicubic, scale: 2}}");
  c.apply_override("data.train.gt=missing");
  expect_error(c, "missing");
}

}  // namespace
}  // namespace vss::test
