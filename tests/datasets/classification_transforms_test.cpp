// The classification recipe's transforms against independent references: every AutoAugment op
// bit-exact against Pillow itself (what torchvision and timm run on), the eval resize + centre crop
// against Pillow's bicubic resize and torchvision's crop arithmetic, colour jitter against
// torchvision's formulas in numpy and the hue step against colorsys, RandomResizedCrop's
// fallback and the policies' magnitude tables by hand.
#include "core/error.h"
#include "datasets/auto_augment.h"
#include "datasets/classification_pipeline.h"
#include "datasets/color_jitter.h"
#include "datasets/pil_image_ops.h"
#include "datasets/random_resized_crop.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

namespace vss::test {
namespace {

// A smooth colourful uint8 image [3, H, W] with some saturated pixels (clipping paths).
at::Tensor colourful_image(int64_t H, int64_t W) {
  torch::manual_seed(3);
  const auto y = torch::linspace(0, 1, H).view({1, H, 1}), x = torch::linspace(0, 1, W).view({1, 1, W});
  const auto base = torch::stack({(x * 255).expand({1, H, W})[0], (y * 230 + 10).expand({1, H, W})[0],
                                  ((x * y) * 255).expand({1, H, W})[0]});
  return (base + torch::randn({3, H, W}) * 20).clamp(0, 255).to(torch::kByte);
}

// Runs each of `ops` (expressions on the PIL image `im`) in one Python process and returns
// their results as [3, h, w] (undefined tensors when Python failed).
std::vector<at::Tensor> pil_references(const at::Tensor& chw, const std::vector<std::string>& ops) {
  const int64_t H = chw.size(1), W = chw.size(2);
  std::vector<std::string> args{to_text(chw), std::to_string(H), std::to_string(W)};
  args.insert(args.end(), ops.begin(), ops.end());
  std::string out;
  const int rc = run_python(
      "import sys, numpy as np\nfrom PIL import Image, ImageEnhance, ImageOps\n"
      "H, W = int(sys.argv[2]), int(sys.argv[3])\n"
      "im = Image.fromarray(np.array(sys.argv[1].split(), float).astype(np.uint8).reshape(3, H, W).transpose(1, 2, 0))\n"
      "for op in sys.argv[4:]:\n"
      "  r = np.asarray(eval(op)).astype(int).transpose(2, 0, 1)\n"
      "  print(r.shape[1], r.shape[2], ' '.join(map(str, r.ravel())))",
      args, &out);
  EXPECT_EQ(rc, 0) << out;
  std::vector<at::Tensor> results(ops.size());
  std::istringstream lines(out);
  std::string line;
  for (size_t i = 0; rc == 0 && i < ops.size() && std::getline(lines, line); ++i) {
    const at::Tensor numbers = from_text(line, {-1});
    const int64_t h = numbers[0].item<int64_t>(), w = numbers[1].item<int64_t>();
    results[i] = numbers.slice(0, 2).view({3, h, w});
  }
  return results;
}

TEST(ClassificationTransforms, PilOpsMatchPillow) {
  if (!python_has({"PIL", "numpy"})) GTEST_SKIP() << "python Pillow + numpy not available";
  const at::Tensor img = colourful_image(23, 31);
  struct Case {
    std::string python;
    std::function<at::Tensor(const at::Tensor&)> ours;
  };
  const std::vector<Case> cases = {
      {"im.transform(im.size, Image.AFFINE, (1, 0.3, 0, 0, 1, 0))", [](auto& t) { return pil::shear_x(t, 0.3); }},
      {"im.transform(im.size, Image.AFFINE, (1, 0, 0, -0.45, 1, 0))", [](auto& t) { return pil::shear_y(t, -0.45); }},
      {"im.transform(im.size, Image.AFFINE, (1, 0, 7, 0, 1, -4))", [](auto& t) { return pil::translate(t, 7, -4); }},
      {"im.rotate(27)", [](auto& t) { return pil::rotate(t, 27); }},
      {"im.rotate(-121.5)", [](auto& t) { return pil::rotate(t, -121.5); }},
      {"im.rotate(180)", [](auto& t) { return pil::rotate(t, 180); }},
      {"im.rotate(90)", [](auto& t) { return pil::rotate(t, 90); }},  // not square: the general path
      {"ImageEnhance.Brightness(im).enhance(1.63)", [](auto& t) { return pil::brightness(t, 1.63); }},
      {"ImageEnhance.Brightness(im).enhance(0.37)", [](auto& t) { return pil::brightness(t, 0.37); }},
      {"ImageEnhance.Color(im).enhance(1.8)", [](auto& t) { return pil::color(t, 1.8); }},
      {"ImageEnhance.Contrast(im).enhance(0.2)", [](auto& t) { return pil::contrast(t, 0.2); }},
      {"ImageEnhance.Contrast(im).enhance(1.9)", [](auto& t) { return pil::contrast(t, 1.9); }},
      {"ImageEnhance.Sharpness(im).enhance(1.7)", [](auto& t) { return pil::sharpness(t, 1.7); }},
      {"ImageEnhance.Sharpness(im).enhance(0.1)", [](auto& t) { return pil::sharpness(t, 0.1); }},
      {"ImageOps.posterize(im, 3)", [](auto& t) { return pil::posterize(t, 3); }},
      {"ImageOps.solarize(im, 100.5)", [](auto& t) { return pil::solarize(t, 100.5); }},
      {"ImageOps.autocontrast(im)", [](auto& t) { return pil::autocontrast(t); }},
      {"ImageOps.equalize(im)", [](auto& t) { return pil::equalize(t); }},
  };
  std::vector<std::string> ops;
  for (const auto& c : cases) ops.push_back(c.python);
  const std::vector<at::Tensor> refs = pil_references(img, ops);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const at::Tensor& ref = refs[i];
    ASSERT_TRUE(ref.defined()) << c.python;
    const at::Tensor diff = (c.ours(img).to(torch::kDouble) - ref).abs();
    const double mismatch = diff.gt(0).to(torch::kDouble).mean().item<double>();
    std::printf("%-60s max diff %.0f, %.4f of values differ\n", c.python.c_str(), diff.max().item<double>(), mismatch);
    EXPECT_EQ(diff.max().item<double>(), 0.0) << c.python;  // bit-exact: the same arithmetic as Pillow
  }
}

TEST(ClassificationTransforms, EvalResizeAndCentreCropMatchPillowAndTorchvision) {
  if (!python_has({"PIL", "numpy"})) GTEST_SKIP() << "python Pillow + numpy not available";
  ClassificationPipeline p;
  p.size = 24;
  p.crop_pct = 0.9;  // floor(24 / 0.9) = 26
  ASSERT_EQ(p.eval_resize(), 26);
  const at::Tensor img = colourful_image(41, 57);
  // torchvision: Resize(26) -> 26 x int(26 * 57 / 41) = 26 x 36, CenterCrop(24): top round(1.0) = 1,
  // left round(6.0) = 6.
  const at::Tensor ref = pil_references(img, {"im.resize((36, 26), Image.BICUBIC).crop((6, 1, 30, 25))"})[0];
  ASSERT_TRUE(ref.defined());
  const at::Tensor ours = p.eval_crop(img.permute({1, 2, 0}).contiguous()).to(torch::kDouble);
  ASSERT_EQ(ours.sizes(), ref.sizes());
  const at::Tensor d = (ours - ref).abs();
  std::printf("eval crop vs Pillow: max diff %.0f, mean %.4f\n", d.max().item<double>(), d.mean().item<double>());
  EXPECT_LE(d.max().item<double>(), 2.0);  // Pillow's 8-bit fixed-point weights
  EXPECT_LT(d.mean().item<double>(), 0.3);
  // Normalised output: (x / 255 - mean) / std.
  const at::Tensor normed = p.eval(img.permute({1, 2, 0}).contiguous());
  EXPECT_NEAR(normed[0][0][0].item<double>(), (ours[0][0][0].item<double>() / 255 - 0.485) / 0.229, 1e-5);
}

TEST(ClassificationTransforms, ColorJitterStepsMatchTorchvisionFormulas) {
  if (!python_has({"numpy", "colorsys"})) GTEST_SKIP() << "python numpy not available";
  const at::Tensor img = colourful_image(5, 7).to(torch::kDouble) / 255.0;
  std::string out;
  ASSERT_EQ(run_python("import sys, colorsys, numpy as np\n"
                       "x = np.array(sys.argv[1].split(), float).reshape(3, 5, 7)\n"
                       "g = 0.2989 * x[0] + 0.587 * x[1] + 0.114 * x[2]\n"
                       "b = np.clip(x * 1.3, 0, 1)\n"
                       "c = np.clip(0.6 * x + 0.4 * g.mean(), 0, 1)\n"
                       "s = np.clip(1.7 * x + (1 - 1.7) * g[None], 0, 1)\n"
                       "h = np.zeros_like(x)\n"
                       "for i in range(5):\n"
                       "  for j in range(7):\n"
                       "    hh, ss, vv = colorsys.rgb_to_hsv(*x[:, i, j])\n"
                       "    h[:, i, j] = colorsys.hsv_to_rgb((hh - 0.15) % 1.0, ss, vv)\n"
                       "print(' '.join('%.17g' % v for v in np.concatenate([b, c, s, h]).ravel()))",
                       {to_text(img)}, &out),
            0)
      << out;
  const at::Tensor ref = from_text(out, {4, 3, 5, 7});
  EXPECT_LT(max_abs_diff(ColorJitter::adjust_brightness(img, 1.3), ref[0]), 1e-12);
  EXPECT_LT(max_abs_diff(ColorJitter::adjust_contrast(img, 0.6), ref[1]), 1e-12);
  EXPECT_LT(max_abs_diff(ColorJitter::adjust_saturation(img, 1.7), ref[2]), 1e-12);
  EXPECT_LT(max_abs_diff(ColorJitter::adjust_hue(img, -0.15), ref[3]), 1e-9);
  // A jitter of strength 0 for every step leaves the image as it is.
  AugmentRng rng(1);
  EXPECT_TRUE(torch::equal(ColorJitter{}(img, rng), img));
  EXPECT_THROW(ColorJitter::adjust_contrast(img[0], 1.0), Error);
}

TEST(ClassificationTransforms, RandomResizedCropBoxes) {
  RandomResizedCrop rrc;
  AugmentRng rng(7);
  for (int i = 0; i < 200; ++i) {
    const CropBox b = rrc.box(60, 90, rng);
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_LE(b.top + b.height, 60);
    ASSERT_LE(b.left + b.width, 90);
    ASSERT_GT(b.height * b.width, 0);
  }
  // Area 1 at ratio 2 never fits a 10 x 10 image (w = round(sqrt(200)) = 14): torchvision's
  // fallback, in_ratio 1 < 2 -> w = 10, h = round(10 / 2) = 5, top (10 - 5) // 2 = 2.
  RandomResizedCrop impossible;
  impossible.scale = {1.0, 1.0};
  impossible.ratio = {2.0, 2.0};
  const CropBox f = impossible.box(10, 10, rng);
  EXPECT_EQ(f.top, 2);
  EXPECT_EQ(f.left, 0);
  EXPECT_EQ(f.height, 5);
  EXPECT_EQ(f.width, 10);
  // Ratio range [0.5, 0.75] on a 10 x 10 image: in_ratio 1 > 0.75 -> h = 10, w = round(7.5) = 8
  // (Python's round: half to even), left (10 - 8) // 2 = 1.
  RandomResizedCrop narrow;
  narrow.ratio = {0.5, 0.75};
  const CropBox n = narrow.central_box(10, 10);
  EXPECT_EQ(n.width, 8);
  EXPECT_EQ(n.height, 10);
  EXPECT_EQ(n.left, 1);
}

TEST(ClassificationTransforms, MagnitudeTablesAreTorchvisions) {
  AutoAugment wide;
  // TrivialAugmentWide: linspace(0, 135, 31)[20] = 90; posterize 8 - round(bin / 5).
  EXPECT_DOUBLE_EQ(wide.magnitude_of(AugmentOp::kRotate, 20, 10, 10), 90.0);
  EXPECT_DOUBLE_EQ(wide.magnitude_of(AugmentOp::kPosterize, 0, 10, 10), 8.0);
  EXPECT_DOUBLE_EQ(wide.magnitude_of(AugmentOp::kPosterize, 13, 10, 10), 5.0);  // 8 - round(2.6)
  EXPECT_DOUBLE_EQ(wide.magnitude_of(AugmentOp::kPosterize, 30, 10, 10), 2.0);
  EXPECT_DOUBLE_EQ(wide.magnitude_of(AugmentOp::kSolarize, 30, 10, 10), 0.0);
  EXPECT_DOUBLE_EQ(wide.magnitude_of(AugmentOp::kTranslateX, 15, 10, 10), 16.0);
  AutoAugment rand;
  rand.policy = AutoAugment::Policy::kRandAugment;
  // RandAugment: translate linspace(0, 150 / 331 * W, 31); posterize 8 - round(bin / 7.5).
  EXPECT_DOUBLE_EQ(rand.magnitude_of(AugmentOp::kTranslateY, 30, 331, 10), 150.0);
  EXPECT_DOUBLE_EQ(rand.magnitude_of(AugmentOp::kPosterize, 9, 10, 10), 7.0);
  EXPECT_NEAR(rand.magnitude_of(AugmentOp::kShearX, 9, 10, 10), 0.09, 1e-12);
  EXPECT_TRUE(AutoAugment::is_signed(AugmentOp::kSharpness));
  EXPECT_FALSE(AutoAugment::is_signed(AugmentOp::kSolarize));
  // A policy keeps the image's size and type.
  AugmentRng rng(2);
  const at::Tensor img = colourful_image(12, 9);
  for (int i = 0; i < 30; ++i) {
    const at::Tensor out = rand(wide(img, rng), rng);
    ASSERT_EQ(out.sizes(), img.sizes());
    ASSERT_EQ(out.scalar_type(), torch::kByte);
  }
}

TEST(ClassificationTransforms, PipelineConfigErrorsNameTheKey) {
  auto error = [](const std::string& yaml) {
    return error_of([&] { ClassificationPipeline::from_config(Config::parse(yaml, "p.yaml")); });
  };
  EXPECT_NE(error("{crop_pct: 1.5}").find("crop_pct: must be in (0, 1]"), std::string::npos);
  EXPECT_NE(error("{interpolation: lanczos}").find("interpolation: unknown interpolation 'lanczos'"), std::string::npos);
  EXPECT_NE(error("{auto_augment: {type: auto}}").find("unknown auto_augment 'auto'"), std::string::npos);
  EXPECT_NE(error("{color_jitter: [0.4, 0.4]}").find("color_jitter"), std::string::npos);
  EXPECT_NE(error("{scale: [0.5, 0.1]}").find("scale: expected [min, max]"), std::string::npos);
  const ClassificationPipeline p = ClassificationPipeline::from_config(
      Config::parse("{size: 32, color_jitter: 0.4, auto_augment: {type: rand_augment, num_ops: 3}}"));
  EXPECT_EQ(p.size, 32);
  EXPECT_DOUBLE_EQ(p.color_jitter.saturation, 0.4);
  EXPECT_DOUBLE_EQ(p.color_jitter.hue, 0.0);
  ASSERT_TRUE(p.auto_augment.has_value());
  EXPECT_EQ(p.auto_augment->num_ops, 3);
  AugmentRng rng(0);
  const at::Tensor out = p.train(colourful_image(40, 50).permute({1, 2, 0}).contiguous(), rng);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 32, 32}));
}

}  // namespace
}  // namespace vss::test
