// The mmseg-style segmentation pipeline: mmcv's rescale_size on hand-computed cases, image and
// label transformed alike, sizes within the configured bounds, reproducible per seed, and
// config errors.
#include "core/config.h"
#include "core/error.h"
#include "datasets/seg_pipeline.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

vss::SegPipeline pipeline(const std::string& yaml) { return vss::SegPipeline::from_config(vss::Config::parse(yaml), 255); }

// mmcv.rescale_size(old_size=(w, h), scale=(2048, 512)): factor = min(2048 / long, 512 / short),
// new = int(x * factor + 0.5).
TEST(SegPipeline, RescaleSizeAsMmcv) {
  EXPECT_EQ(vss::rescale_size(512, 683, 2048, 512), (std::array<int64_t, 2>{512, 683}));  // factor 1
  // 300 x 400: min(2048 / 400, 512 / 300) = 1.70667 -> 512, int(682.67 + 0.5) = 683
  EXPECT_EQ(vss::rescale_size(300, 400, 2048, 512), (std::array<int64_t, 2>{512, 683}));
  // Ratio 0.5 of (2048, 512): min(1024 / 400, 256 / 300) = 0.85333 -> 256, int(341.33 + 0.5) = 341
  EXPECT_EQ(vss::rescale_size(300, 400, 1024, 256), (std::array<int64_t, 2>{256, 341}));
  // A very long image is bound by the long edge: min(2048 / 8000, 512 / 100) = 0.256 -> 26, 2048
  EXPECT_EQ(vss::rescale_size(100, 8000, 2048, 512), (std::array<int64_t, 2>{26, 2048}));
  // The order of the two edges does not matter; a 1-pixel image stays at least 1 pixel.
  EXPECT_EQ(vss::rescale_size(300, 400, 512, 2048), (std::array<int64_t, 2>{512, 683}));
  EXPECT_EQ(vss::rescale_size(1, 1, 1, 1), (std::array<int64_t, 2>{1, 1}));
}

vss::SegSample coded_sample(int64_t H, int64_t W) {
  torch::manual_seed(H * 100 + W);
  const at::Tensor label = torch::randint(0, 5, {H, W}, torch::kLong);
  // Channel 0 holds the label x 40, so any geometric step must keep them aligned.
  const at::Tensor image = torch::stack({label * 40, torch::full({H, W}, 7, torch::kLong), label}).to(torch::kByte);
  return {image, label, "coded"};
}

TEST(SegPipeline, ImageAndLabelAreCroppedAndFlippedAlike) {
  const auto p = pipeline("{crop_size: [8, 12], cat_max_ratio: 0.75, flip_prob: 0.5}");
  const auto in = coded_sample(20, 30);
  int flipped = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    vss::AugmentRng rng(seed);
    const auto out = p.train(in, rng);
    ASSERT_EQ(out.image.sizes(), (std::vector<int64_t>{3, 8, 12}));
    EXPECT_EQ(out.image.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::equal(out.image[0], (out.label * 40).to(torch::kFloat))) << seed;
    // The crop is a window of the input (maybe mirrored): find it.
    bool found = false;
    for (int64_t top = 0; top <= 12 && !found; ++top)
      for (int64_t left = 0; left <= 18 && !found; ++left) {
        const at::Tensor window = in.label.narrow(0, top, 8).narrow(1, left, 12);
        if (torch::equal(window, out.label)) found = true;
        else if (torch::equal(window.flip(1), out.label)) found = true, ++flipped;
      }
    EXPECT_TRUE(found) << seed;
  }
  EXPECT_GT(flipped, 2);
  EXPECT_LT(flipped, 18);
  // An image smaller than the crop stays as it is (the batch pads it).
  vss::AugmentRng rng(1);
  EXPECT_EQ(p.train(coded_sample(5, 40), rng).label.sizes(), (std::vector<int64_t>{5, 12}));
}

TEST(SegPipeline, RandomResizeStaysWithinTheRatioRange) {
  const auto p = pipeline("{scale: [200, 50], ratio_range: [0.5, 2.0]}");
  const auto in = coded_sample(30, 40);
  int64_t lo = 1 << 30, hi = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    vss::AugmentRng rng(seed);
    const auto out = p.train(in, rng);
    const int64_t h = out.label.size(0);
    ASSERT_EQ(out.image.size(1), h);
    // short edge 30 -> int(50 * ratio) (the long-edge bound 200 * ratio never binds here)
    EXPECT_GE(h, 25);
    EXPECT_LE(h, 100);
    EXPECT_NEAR(static_cast<double>(out.label.size(1)) / h, 40.0 / 30.0, 0.05);
    lo = std::min(lo, h);
    hi = std::max(hi, h);
    // Nearest-neighbour labels keep only values that were there.
    EXPECT_TRUE(((out.label >= 0) & (out.label < 5)).all().item<bool>());
  }
  EXPECT_LT(lo, 40);
  EXPECT_GT(hi, 80);
}

TEST(SegPipeline, ReproduciblePerSeed) {
  const auto p = pipeline(
      "{scale: [64, 32], ratio_range: [0.5, 2.0], crop_size: [16, 16], cat_max_ratio: 0.75, flip_prob: 0.5, "
      "photometric: true}");
  const auto in = coded_sample(24, 32);
  vss::AugmentRng a(5), b(5), c(6);
  const auto x = p.train(in, a), y = p.train(in, b), z = p.train(in, c);
  EXPECT_TRUE(torch::equal(x.image, y.image));
  EXPECT_TRUE(torch::equal(x.label, y.label));
  EXPECT_FALSE(x.image.sizes() == z.image.sizes() && torch::equal(x.image, z.image));
}

TEST(SegPipeline, TestResizeAndNoOpDefaults) {
  const auto in = coded_sample(30, 40);
  EXPECT_EQ(pipeline("{test_scale: [2048, 512]}").test_image(in.image).sizes(), (std::vector<int64_t>{3, 512, 683}));
  const auto none = pipeline("{}");
  EXPECT_TRUE(torch::equal(none.test_image(in.image), in.image.to(torch::kFloat)));
  vss::AugmentRng rng(0);
  const auto out = none.train(in, rng);
  EXPECT_TRUE(torch::equal(out.image, in.image.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(out.label, in.label));
}

TEST(SegPipeline, ConfigErrorsNameTheKey) {
  for (const char* bad : {"{ratio_range: [0.5, 2.0]}", "{crop_size: [512]}", "{crop_size: [0, 4]}", "{flip_prob: 2}",
                          "{cat_max_ratio: 0.75}", "{scale: [10, 10], ratio_range: [2.0, 1.0]}", "{crop: [4, 4]}"}) {
    try {
      pipeline(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const vss::Error& e) {
      const std::string msg = e.what();
      EXPECT_TRUE(msg.find("ratio_range") != std::string::npos || msg.find("crop") != std::string::npos ||
                  msg.find("flip_prob") != std::string::npos || msg.find("cat_max_ratio") != std::string::npos)
          << bad << ": " << msg;
    }
  }
}

}  // namespace
