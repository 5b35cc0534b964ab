// BasicSR-exact PSNR / SSIM: hand-computed cases, and random images scored by BasicSR's
// formulas written out in numpy + cv2 (cv2.getGaussianKernel / cv2.filter2D); the oracle
// flips the raw RGB bytes to BGR, the order BasicSR's Y weights are written for.
#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/restore/psnr_ssim.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace vss::test {
namespace {

using restore::MetricOptions;

void write_raw(const std::string& path, const at::Tensor& image) {
  const at::Tensor c = image.contiguous();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), c.numel());
}

at::Tensor filled(int64_t h, int64_t w, int64_t c, int value) {
  return torch::full({h, w, c}, value, torch::kUInt8);
}

TEST(RestorePsnr, HandComputed) {
  // Every pixel off by 10: mse 100.
  EXPECT_DOUBLE_EQ(restore::psnr(filled(4, 4, 3, 0), filled(4, 4, 3, 10)), 10 * std::log10(65025.0 / 100.0));
  // One pixel of 16 off by 16 in a 4x4 grey image: mse 256/16 = 16.
  at::Tensor b = filled(4, 4, 1, 0);
  b[1][2][0] = 16;
  EXPECT_DOUBLE_EQ(restore::psnr(filled(4, 4, 1, 0), b), 10 * std::log10(65025.0 / 16.0));
  EXPECT_TRUE(std::isinf(restore::psnr(b, b)));
  // The crop removes the differing pixel's row: identical afterwards.
  b = filled(6, 6, 1, 0);
  b[0][3][0] = 200;
  EXPECT_TRUE(std::isinf(restore::psnr(filled(6, 6, 1, 0), b, MetricOptions{1, false})));
  EXPECT_FALSE(std::isinf(restore::psnr(filled(6, 6, 1, 0), b, MetricOptions{0, false})));
}

TEST(RestorePsnr, YChannelIsStudioRangeBt601) {
  at::Tensor img = torch::zeros({1, 3, 3}, torch::kUInt8);
  img[0][1] = 255;                                  // white
  img[0][2][0] = 255;                               // pure red
  const at::Tensor y = restore::rgb_to_y(img);
  EXPECT_NEAR(y[0][0][0].item<double>(), 16.0, 1e-5);
  EXPECT_NEAR(y[0][1][0].item<double>(), 235.0, 1e-4);
  EXPECT_NEAR(y[0][2][0].item<double>(), 16.0 + 65.481, 1e-4);
  // Y of grey (1-channel) images is the image itself.
  const at::Tensor g = filled(12, 12, 1, 7);
  EXPECT_DOUBLE_EQ(restore::psnr(g, filled(12, 12, 1, 9), {0, true}), restore::psnr(g, filled(12, 12, 1, 9)));
}

TEST(RestoreSsim, HandComputed) {
  const at::Tensor a = filled(16, 16, 3, 100);
  EXPECT_DOUBLE_EQ(restore::ssim(a, a), 1.0);
  // Constant images: σ = 0, so SSIM = (2·μ1·μ2 + C1) / (μ1² + μ2² + C1).
  const double c1 = std::pow(0.01 * 255, 2);
  EXPECT_NEAR(restore::ssim(a, filled(16, 16, 3, 120)), (2 * 100 * 120 + c1) / (100 * 100 + 120 * 120 + c1), 1e-12);
}

TEST(RestoreMetrics, BadInputIsAnErrorNamingShapes) {
  try {
    restore::psnr(filled(4, 4, 3, 0), filled(4, 5, 3, 0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[4, 5, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(restore::ssim(filled(10, 10, 1, 0), filled(10, 10, 1, 0)), Error);  // smaller than the window
  EXPECT_THROW(restore::psnr(filled(4, 4, 1, 0), filled(4, 4, 1, 0), {2, false}), Error);  // cropped away
}

TEST(RestoreMetrics, QuantizeAsTensor2img) {
  const at::Tensor x = torch::tensor({-0.2f, 0.0f, 0.5f, 0.25f, 1.0f, 1.7f});
  const at::Tensor q = restore::quantize_uint8(x);
  const std::vector<int> expected{0, 0, 128, 64, 255, 255};  // 127.5 -> 128, 63.75 -> 64
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(q[i].item<int>(), expected[i]) << i;
  const at::Tensor wide = torch::tensor({0, 257, 65535}, torch::kInt32).to(at::kUInt16);
  const at::Tensor narrow = restore::to_uint8(wide);
  EXPECT_EQ(narrow[1].item<int>(), 1);
  EXPECT_EQ(narrow[2].item<int>(), 255);
}

constexpr const char* kBasicSrOracle = R"PY(
import sys, cv2, numpy as np
def to_y(img):
    img = img.astype(np.float32) / 255.
    out = np.dot(img, [24.966, 128.553, 65.481]) + 16.0
    out /= 255.
    return out.astype(np.float32)[..., None] * 255.
def prep(img, crop, y):
    if crop:
        img = img[crop:-crop, crop:-crop, ...]
    if y and img.shape[2] == 3:
        img = to_y(img)
    return img.astype(np.float64)
def psnr(a, b):
    mse = np.mean((a - b) ** 2)
    return float('inf') if mse == 0 else 10. * np.log10(255. * 255. / mse)
def ssim1(img, img2):
    c1 = (0.01 * 255) ** 2; c2 = (0.03 * 255) ** 2
    k = cv2.getGaussianKernel(11, 1.5); w = np.outer(k, k.transpose())
    mu1 = cv2.filter2D(img, -1, w)[5:-5, 5:-5]; mu2 = cv2.filter2D(img2, -1, w)[5:-5, 5:-5]
    s1 = cv2.filter2D(img ** 2, -1, w)[5:-5, 5:-5] - mu1 ** 2
    s2 = cv2.filter2D(img2 ** 2, -1, w)[5:-5, 5:-5] - mu2 ** 2
    s12 = cv2.filter2D(img * img2, -1, w)[5:-5, 5:-5] - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))
    return m.mean()
h, w, c = map(int, sys.argv[3:6])
a = np.fromfile(sys.argv[1], np.uint8).reshape(h, w, c)[..., ::-1].copy()
b = np.fromfile(sys.argv[2], np.uint8).reshape(h, w, c)[..., ::-1].copy()
for crop in (0, 4):
    for y in (False, True):
        x1, x2 = prep(a, crop, y), prep(b, crop, y)
        s = np.mean([ssim1(x1[..., i], x2[..., i]) for i in range(x1.shape[2])])
        print('%.17g %.17g' % (psnr(x1, x2), s))
)PY";

TEST(RestoreMetrics, MatchBasicSrFormulasInNumpyAndCv2) {
  if (!python_has({"cv2", "numpy"})) GTEST_SKIP() << "python cv2 + numpy not available";
  const auto dir = make_temp_dir("vss-restore-metrics");
  torch::manual_seed(3);
  for (int64_t channels : {3, 1}) {
    // A smooth image and a noisy, slightly shifted copy (structure, so SSIM is informative).
    const at::Tensor ramp = torch::linspace(0, 1, 37).view({37, 1, 1}) * torch::linspace(0, 1, 29).view({1, 29, 1});
    at::Tensor clean = (ramp * 200 + 20 * torch::rand({37, 29, channels})).round().to(at::kByte);
    at::Tensor noisy = (clean.to(at::kFloat) + 12 * torch::randn({37, 29, channels})).clamp(0, 255).round().to(at::kByte);
    const std::string pa = (dir / "a.raw").string(), pb = (dir / "b.raw").string();
    write_raw(pa, clean);
    write_raw(pb, noisy);
    std::string out;
    ASSERT_EQ(run_python(kBasicSrOracle, {pa, pb, "37", "29", std::to_string(channels)}, &out), 0) << out;
    std::istringstream lines(out);
    for (int64_t crop : {0, 4}) {
      for (bool y : {false, true}) {
        double want_psnr = 0, want_ssim = 0;
        lines >> want_psnr >> want_ssim;
        const MetricOptions o{crop, y};
        EXPECT_NEAR(restore::psnr(clean, noisy, o), want_psnr, 1e-9) << "C=" << channels << " crop=" << crop << " y=" << y;
        EXPECT_NEAR(restore::ssim(clean, noisy, o), want_ssim, 1e-9) << "C=" << channels << " crop=" << crop << " y=" << y;
      }
    }
  }
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
