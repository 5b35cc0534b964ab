// Degradations: GTmod cropping by hand; bicubic LR (and enlarged) images against Pillow's antialiased
// bicubic (an independent resampler; same kernel and centres, it clamps at the borders where
// MATLAB mirrors, so interior pixels are compared); the seeded noise's statistics and its
// equality with torch.normal seeded the same way in Python (users can reproduce a test set);
// JPEG against OpenCV's encoder in Python.
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "datasets/degradations.h"
#include "datasets/image_tensor.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

namespace vss::test {
namespace {


// A smooth image with some detail: what LR test images look like.
at::Tensor smooth_image(int64_t h, int64_t w, int64_t c) {
  const at::Tensor y = torch::arange(h, torch::kDouble).view({h, 1, 1});
  const at::Tensor x = torch::arange(w, torch::kDouble).view({1, w, 1});
  const at::Tensor ch = torch::arange(c, torch::kDouble).view({1, 1, c});
  return (127.5 + 100 * torch::sin(0.21 * x + 0.13 * y + ch) * torch::cos(0.17 * y - 0.05 * x)).round().to(torch::kByte);
}

TEST(Degradations, ModCropKeepsTheTopLeftMultiple) {
  const at::Tensor img = torch::randint(0, 256, {13, 10, 3}, torch::kByte);
  const at::Tensor m = mod_crop(img, 4);
  EXPECT_EQ(m.sizes().vec(), (std::vector<int64_t>{12, 8, 3}));
  EXPECT_TRUE(torch::equal(m, img.narrow(0, 0, 12).narrow(1, 0, 8)));
  EXPECT_TRUE(torch::equal(mod_crop(img, 1), img));
  EXPECT_THROW(mod_crop(torch::zeros({3, 9, 3}, torch::kByte), 4), Error);  // 3 rows < x4
}

TEST(Degradations, BicubicDownsampleSizesTypesAndConstants) {
  const at::Tensor flat = torch::full({10, 7, 3}, 77, torch::kByte);
  const at::Tensor lr = bicubic_downsample(flat, 3);  // GTmod 9x6 -> 3x2
  EXPECT_EQ(lr.sizes().vec(), (std::vector<int64_t>{3, 2, 3}));
  EXPECT_EQ(lr.scalar_type(), torch::kByte);
  EXPECT_TRUE(torch::equal(lr, torch::full({3, 2, 3}, 77, torch::kByte)));
  const at::Tensor deep = torch::full({8, 8, 1}, 40000, torch::kInt).to(torch::kUInt16);
  const at::Tensor lr16 = bicubic_downsample(deep, 2);
  EXPECT_EQ(lr16.scalar_type(), torch::kUInt16);
  EXPECT_TRUE(torch::equal(lr16.to(torch::kInt), torch::full({4, 4, 1}, 40000, torch::kInt)));
  EXPECT_EQ(bicubic_upsample(lr, 2).sizes().vec(), (std::vector<int64_t>{6, 4, 3}));
}

TEST(Degradations, BicubicDownsampleMatchesPillowInside) {
  if (!python_has({"PIL", "numpy"})) GTEST_SKIP() << "python Pillow + numpy not available";
  const at::Tensor img = smooth_image(48, 40, 3);
  for (int64_t scale : {2, 4}) {
    std::string out;
    ASSERT_EQ(run_python("import sys, numpy as np; from PIL import Image\n"
                         "a = np.array(sys.argv[1].split(), float).reshape(48, 40, 3).astype(np.uint8)\n"
                         "s = int(sys.argv[2])\n"
                         "b = np.asarray(Image.fromarray(a).resize((40 // s, 48 // s), Image.BICUBIC))\n"
                         "print(' '.join(str(v) for v in b.ravel()))",
                         {to_text(img), std::to_string(scale)}, &out),
              0)
        << out;
    const at::Tensor pil = from_text(out, {48 / scale, 40 / scale, 3});
    const at::Tensor ours = bicubic_downsample(img, scale).to(torch::kDouble);
    // Taps reach 2·scale input pixels: one output pixel in from each border for x2, x4.
    const int64_t m = 2;
    const at::Tensor d = (ours - pil).slice(0, m, -m).slice(1, m, -m).abs();
    EXPECT_LE(d.max().item<double>(), 1.0) << "x" << scale;  // Pillow's 8-bit fixed point
    EXPECT_LT(d.mean().item<double>(), 0.2) << "x" << scale;
  }
}

TEST(Degradations, BicubicUpsampleMatchesPillowInside) {
  if (!python_has({"PIL", "numpy"})) GTEST_SKIP() << "python Pillow + numpy not available";
  const at::Tensor img = smooth_image(20, 17, 3);
  std::string out;
  ASSERT_EQ(run_python("import sys, numpy as np; from PIL import Image\n"
                       "a = np.array(sys.argv[1].split(), float).reshape(20, 17, 3).astype(np.uint8)\n"
                       "b = np.asarray(Image.fromarray(a).resize((34, 40), Image.BICUBIC))\n"
                       "print(' '.join(str(v) for v in b.ravel()))",
                       {to_text(img)}, &out),
            0)
      << out;
  const at::Tensor pil = from_text(out, {40, 34, 3});
  const at::Tensor d = (bicubic_upsample(img, 2).to(torch::kDouble) - pil).slice(0, 4, -4).slice(1, 4, -4).abs();
  EXPECT_LE(d.max().item<double>(), 1.0);
  EXPECT_LT(d.mean().item<double>(), 0.2);
}

TEST(Degradations, NoiseIsSeededUnclippedAndHasSigma) {
  const at::Tensor x = torch::full({3, 200, 250}, 0.5f);
  const at::Tensor a = add_gaussian_noise(x, 25, 7), b = add_gaussian_noise(x, 25, 7), c = add_gaussian_noise(x, 25, 8);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  const at::Tensor n = (a - x).to(torch::kDouble);
  EXPECT_NEAR(n.mean().item<double>(), 0.0, 1e-3);
  EXPECT_NEAR(n.std().item<double>(), 25.0 / 255.0, 0.01 * 25.0 / 255.0);
  const at::Tensor bright = add_gaussian_noise(torch::full({1, 50, 50}, 0.99f), 50, 1);
  EXPECT_GT(bright.max().item<float>(), 1.0f);  // KAIR / SwinIR do not clip
  EXPECT_THROW(add_gaussian_noise(x, -1, 0), Error);
}

TEST(Degradations, NoiseEqualsTorchNormalSeededInPython) {
  if (!python_has({"torch"})) GTEST_SKIP() << "python torch not available";
  const at::Tensor x = torch::rand({3, 5, 7});
  std::string out;
  ASSERT_EQ(run_python("import sys, torch\n"
                       "g = torch.Generator().manual_seed(1234)\n"
                       "n = torch.normal(0.0, 15 / 255.0, (3, 5, 7), generator=g)\n"
                       "print(' '.join(repr(v) for v in n.double().flatten().tolist()))",
                       {}, &out),
            0)
      << out;
  const at::Tensor want = from_text(out, {3, 5, 7});
  EXPECT_LT(max_abs_diff(add_gaussian_noise(x, 15, 1234) - x, want), 1e-7);
}

TEST(Degradations, JpegMatchesOpenCvInPython) {
  if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
  if (!python_has({"cv2", "numpy"})) GTEST_SKIP() << "python cv2 + numpy not available";
  const at::Tensor img = smooth_image(24, 32, 3);
  for (int q : {10, 75}) {
    std::string out;
    ASSERT_EQ(run_python("import sys, cv2, numpy as np\n"
                         "a = np.array(sys.argv[1].split(), float).reshape(24, 32, 3).astype(np.uint8)\n"
                         "ok, buf = cv2.imencode('.jpg', a[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(sys.argv[2])])\n"
                         "b = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)[:, :, ::-1]\n"
                         "print(' '.join(str(v) for v in b.ravel()))",
                         {to_text(img), std::to_string(q)}, &out),
              0)
        << out;
    const at::Tensor theirs = from_text(out, {24, 32, 3});
    const at::Tensor ours = jpeg_compress(img, q);
    ASSERT_EQ(ours.sizes(), img.sizes());
    // Both use libjpeg(-turbo) with the IJG tables; builds may differ in the last bit.
    const at::Tensor d = (ours.to(torch::kDouble) - theirs).abs();
    EXPECT_LE(d.max().item<double>(), 2.0) << "q" << q;
    EXPECT_LT(d.mean().item<double>(), 0.1) << "q" << q;
    EXPECT_FALSE(torch::equal(ours, img));
  }
  EXPECT_THROW(jpeg_compress(img, 0), Error);
  EXPECT_THROW(jpeg_compress(img.to(torch::kInt).to(torch::kUInt16), 50), Error);
}

TEST(Degradations, ConfigNamesTheBadKey) {
  EXPECT_EQ(degradation_from_config(Config::parse("{type: bicubic, scale: 4}")).scale, 4);
  EXPECT_EQ(degradation_from_config(Config::parse("{type: noise, sigma: 25}")).describe(), "noise sigma 25");
  EXPECT_EQ(degradation_from_config(Config::parse("{type: jpeg, quality: 40}")).quality, 40);
  for (const char* bad : {"{type: blur}", "{type: bicubic, scale: 1}", "{type: noise, sigma: 0}",
                          "{type: jpeg, quality: 101}", "{type: noise, sigma: 5, seed: 1}"}) {
    try {
      degradation_from_config(Config::parse(bad, "deg.yaml"));
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("deg.yaml"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace vss::test
