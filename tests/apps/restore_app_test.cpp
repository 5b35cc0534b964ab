// vss-restore on the command line. `eval` against an independent numpy / scipy transcription
// of BasicSR's formulas (images read by Pillow; PSNR also by scikit-image) on odd sizes, grey,
// 16-bit and GTmod-cropped gt, with missing and different-size files skipped and named; a
// run keeps bit depth (16-bit PNG and TIFF), alpha (MATLAB bicubic) and grey, writes what the
// network computes, and its --gt table equals `eval` on the written images; `degrade` writes
// the library's degradations (noise: torch.normal seeded in Python); pack -> vss-train from
// the bank -> export -> restore without --config works end to end; bad input gives one line
// naming the file (truncated image, weights for another scale, tile <= overlap) and never a
// partial output.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/degradations.h"
#include "datasets/image_tensor.h"
#include "heads/restore/psnr_ssim.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/restoration_weights.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

namespace vss::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;


at::Tensor random_image(int64_t h, int64_t w, int64_t c, at::ScalarType type = torch::kByte) {
  const int64_t max = type == torch::kByte ? 256 : 65536;
  return torch::randint(0, max, {h, w, c}, torch::kInt).to(type);
}

// A smooth image (what photographs look like to SSIM) plus a little noise.
at::Tensor smooth_image(int64_t h, int64_t w, int64_t c, double phase) {
  const at::Tensor y = torch::arange(h, torch::kDouble).view({h, 1, 1});
  const at::Tensor x = torch::arange(w, torch::kDouble).view({1, w, 1});
  const at::Tensor ch = torch::arange(c, torch::kDouble).view({1, 1, c});
  const at::Tensor v = 128 + 90 * torch::sin(0.23 * x + 0.17 * y + ch + phase) + 10 * torch::randn({h, w, c}, torch::kDouble);
  return v.clamp(0, 255).round().to(torch::kByte);
}

class RestoreApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_restore_app");
    torch::manual_seed(1);
    config_ = Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml");
    net_ = restore::make_restoration_net(config_["model"]);
    net_->eval();
    weights_ = (dir_ / "tiny_x2.safetensors").string();
    const Config deg = config_["degradation"], metrics = config_["metrics"];
    restore::save_restoration_weights(*net_, restore::restore_config_yaml(config_["model"], &deg, &metrics), weights_);
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  // What the network makes of a [H, W, C] image (C = 3), as float [3, 2H, 2W].
  at::Tensor forward(const at::Tensor& image) {
    torch::NoGradGuard no_grad;
    return net_->forward(image_to_float(image).unsqueeze(0)).squeeze(0);
  }
  fs::path dir_;
  Config config_ = Config::parse("{}");
  restore::RestorationNet net_{nullptr};
  std::string weights_;
};

// BasicSR's metric code (basicsr/metrics/psnr_ssim.py, metric_util.py, utils/color_util.py)
// written out with numpy; SSIM's Gaussian filter with scipy's 'valid' correlation instead of
// cv2.filter2D + crop. Prints "name psnr ssim psnr_y ssim_y" per pair.
constexpr const char* kEvalOracle = R"PY(
import sys, numpy as np
from PIL import Image
from scipy.signal import correlate2d
from skimage.metrics import peak_signal_noise_ratio
crop, scale = int(sys.argv[1]), int(sys.argv[2])
def read(path):
    a = np.asarray(Image.open(path))
    if a.dtype != np.uint8:  # 16-bit: tensor2img of x / 65535
        a = np.round((a.astype(np.float64) / 65535).astype(np.float32) * np.float32(255)).astype(np.uint8)
    return a if a.ndim == 3 else a[:, :, None]
def y_channel(rgb):
    img = rgb[:, :, ::-1].astype(np.float32) / 255.
    y = np.dot(img, [24.966, 128.553, 65.481]) + 16.0
    y = (y / 255.).astype(np.float32)
    return (y * 255.)[:, :, None]
def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float('inf') if mse == 0 else 10. * np.log10(255. * 255. / mse)
def ssim_plane(a, b):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    r = np.arange(11) - 5.0
    g = np.exp(-r ** 2 / (2 * 1.5 ** 2)); g /= g.sum()
    w = np.outer(g, g)
    f = lambda x: correlate2d(x, w, mode='valid')
    mu1, mu2 = f(a), f(b)
    s1, s2, s12 = f(a * a) - mu1 ** 2, f(b * b) - mu2 ** 2, f(a * b) - mu1 * mu2
    return (((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))).mean()
def ssim(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return np.mean([ssim_plane(a[:, :, i], b[:, :, i]) for i in range(a.shape[2])])
for pair in sys.argv[3:]:
    name, gt_path, res_path = pair.split('|')
    gt, res = read(gt_path), read(res_path)
    if gt.shape != res.shape:
        gt = gt[:gt.shape[0] - gt.shape[0] % scale, :gt.shape[1] - gt.shape[1] % scale]
    if crop:
        gt, res = gt[crop:-crop, crop:-crop], res[crop:-crop, crop:-crop]
    gy, ry = (y_channel(gt), y_channel(res)) if gt.shape[2] == 3 else (gt, res)
    sk = peak_signal_noise_ratio(gt, res, data_range=255)
    assert abs(sk - psnr(gt, res)) < 1e-9, (sk, psnr(gt, res))
    print(name, *(repr(float(v)) for v in (psnr(gt, res), ssim(gt, res), psnr(gy, ry), ssim(gy, ry))))
)PY";

std::map<std::string, std::array<double, 4>> oracle_scores(int crop, int scale, const std::vector<std::string>& pairs) {
  std::vector<std::string> args{std::to_string(crop), std::to_string(scale)};
  args.insert(args.end(), pairs.begin(), pairs.end());
  std::string out;
  EXPECT_EQ(run_python(kEvalOracle, args, &out), 0) << out;
  std::map<std::string, std::array<double, 4>> scores;
  std::istringstream s(out);
  std::string name;
  std::array<double, 4> v;
  while (s >> name >> v[0] >> v[1] >> v[2] >> v[3]) scores[name] = v;
  return scores;
}

TEST_F(RestoreApp, EvalMatchesANumpyTranscriptionOfBasicSr) {
  if (!python_has({"numpy", "scipy", "PIL", "skimage"})) GTEST_SKIP() << "python numpy / scipy / Pillow / skimage missing";
  torch::manual_seed(2);
  fs::create_directories(dir_ / "gt");
  fs::create_directories(dir_ / "res");
  auto write_pair = [&](const std::string& name, const at::Tensor& gt, const at::Tensor& res, const char* ext = ".png") {
    write_image((dir_ / "gt" / (name + ext)).string(), gt);
    write_image((dir_ / "res" / (name + ".png")).string(), res);
  };
  auto degraded = [](const at::Tensor& img, double amount) {
    return (img.to(torch::kDouble) + amount * torch::randn(img.sizes(), torch::kDouble)).clamp(0, 255).round().to(torch::kByte);
  };
  const at::Tensor a = smooth_image(37, 29, 3, 0.0), b = smooth_image(26, 30, 1, 1.0);
  write_pair("odd", a, degraded(a, 6));
  write_pair("grey", b, degraded(b, 12));
  // GT one row and column larger than the x2 result: scored after GTmod.
  const at::Tensor c = smooth_image(25, 27, 3, 2.0);
  write_pair("gtmod", c, degraded(c.narrow(0, 0, 24).narrow(1, 0, 26), 3));
  // 16-bit gt (grey: Pillow reads 16-bit grey PNGs as they are): scored on its tensor2img uint8 version.
  const at::Tensor d = smooth_image(20, 22, 1, 3.0);
  write_pair("deep", (d.to(torch::kInt) * 257).to(torch::kUInt16), degraded(d, 9));
  // Skipped: no result file; a result of another size; a result too small for SSIM after the crop.
  write_image((dir_ / "gt" / "lonely.png").string(), a);
  write_pair("wrong", a, degraded(a.narrow(0, 0, 20), 1));
  write_pair("tiny", a.narrow(0, 0, 12).narrow(1, 0, 12), a.narrow(0, 0, 12).narrow(1, 0, 12));

  std::string out;
  ASSERT_EQ(run_app_command("vss-restore", {"eval", "--gt", (dir_ / "gt").string(), "--res", (dir_ / "res").string(),
                                            "--scale", "2", "--json"},
                            &out),
            0)
      << out;
  const json j = json_of(out);
  std::vector<std::string> pairs;
  for (const char* name : {"odd", "grey", "gtmod", "deep"})
    pairs.push_back(std::string(name) + "|" + (dir_ / "gt" / (std::string(name) + ".png")).string() + "|" +
                    (dir_ / "res" / (std::string(name) + ".png")).string());
  const auto want = oracle_scores(2, 2, pairs);
  ASSERT_EQ(want.size(), 4u);
  ASSERT_EQ(j["images"].size(), 4u) << j.dump(1);
  std::array<double, 4> mean{};
  for (const auto& [name, v] : want) {
    const json& got = j["images"][name];
    EXPECT_NEAR(got["psnr"].get<double>(), v[0], 1e-9) << name;
    EXPECT_NEAR(got["ssim"].get<double>(), v[1], 1e-9) << name;
    EXPECT_NEAR(got["psnr_y"].get<double>(), v[2], 1e-9) << name;
    EXPECT_NEAR(got["ssim_y"].get<double>(), v[3], 1e-9) << name;
    for (int k = 0; k < 4; ++k) mean[k] += v[k] / 4;
  }
  EXPECT_NEAR(j["mean"]["psnr"].get<double>(), mean[0], 1e-9);
  EXPECT_NEAR(j["mean"]["ssim_y"].get<double>(), mean[3], 1e-9);
  EXPECT_EQ(j["crop_border"].get<int>(), 2);
  const std::string skipped = j["skipped"].dump();
  for (const char* name : {"lonely", "wrong", "tiny"}) EXPECT_NE(skipped.find(name), std::string::npos) << skipped;
  EXPECT_NE(out.find("warning: skipped wrong"), std::string::npos) << out;

  // The table: a row per image and the mean; --crop-border 0 changes the numbers.
  ASSERT_EQ(run_app_command("vss-restore", {"eval", "--gt", (dir_ / "gt").string(), "--res", (dir_ / "res").string(),
                                            "--scale", "2", "--crop-border", "0", "--y"},
                            &out),
            0)
      << out;
  EXPECT_NE(out.find("mean (5 images)"), std::string::npos) << out;  // "tiny" scores with no crop
  EXPECT_NE(out.find("PSNR-Y"), std::string::npos) << out;
  const auto uncropped = oracle_scores(0, 2, {pairs[0]});
  char expect[64];
  std::snprintf(expect, sizeof(expect), "%8.3f", uncropped.at("odd")[0]);
  EXPECT_NE(out.find(expect), std::string::npos) << out;
}

TEST_F(RestoreApp, RunKeepsDepthAlphaAndGreyAndWritesWhatTheNetworkComputes) {
  torch::manual_seed(3);
  fs::create_directories(dir_ / "in");
  const at::Tensor rgb = random_image(13, 11, 3), rgba = random_image(9, 10, 4), grey = random_image(7, 12, 1);
  const at::Tensor deep = random_image(8, 9, 3, torch::kUInt16), one = random_image(1, 1, 3);
  write_image((dir_ / "in/rgb.png").string(), rgb);
  write_image((dir_ / "in/rgba.png").string(), rgba);
  write_image((dir_ / "in/grey.png").string(), grey);
  write_image((dir_ / "in/deep.png").string(), deep);
  write_image((dir_ / "in/deep_tiff.tif").string(), deep);
  write_image((dir_ / "in/photo.jpg").string(), rgb);
  write_image((dir_ / "in/one.png").string(), one);
  std::string out;
  ASSERT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "in").string(), "-o", (dir_ / "out").string(), "--weights",
                                            weights_, "--json", "--suffix", "x2"},
                            &out),
            0)
      << out;
  const json j = json_of(out);
  EXPECT_EQ(j["count"].get<int>(), 7);
  EXPECT_EQ(j["scale"].get<int>(), 2);
  auto read_out = [&](const std::string& name) { return read_image((dir_ / "out" / name).string(), ImageMode::kUnchanged); };

  const at::Tensor r = read_out("rgb_x2.png");
  EXPECT_TRUE(torch::equal(r, float_to_image(forward(rgb), torch::kByte)));
  // Alpha: MATLAB bicubic x2 of the input's; colour as for an RGB image.
  const at::Tensor a = read_out("rgba_x2.png");
  ASSERT_EQ(a.sizes().vec(), (std::vector<int64_t>{18, 20, 4}));
  EXPECT_TRUE(torch::equal(a.narrow(2, 3, 1), bicubic_upsample(rgba.narrow(2, 3, 1).contiguous(), 2)));
  EXPECT_TRUE(torch::equal(a.narrow(2, 0, 3), float_to_image(forward(rgba.narrow(2, 0, 3).contiguous()), torch::kByte)));
  // Grey through the RGB model: replicated, and the output's BT.601 luma.
  const at::Tensor g = read_out("grey_x2.png");
  ASSERT_EQ(g.sizes().vec(), (std::vector<int64_t>{14, 24, 1}));
  const at::Tensor luma = (forward(match_channels(grey, 3)).clamp(0, 1) * torch::tensor({0.299f, 0.587f, 0.114f}).view({3, 1, 1}))
                             .sum(0, true);
  EXPECT_TRUE(torch::equal(g, float_to_image(luma, torch::kByte)));
  EXPECT_TRUE(j["images"]["grey"].contains("grey"));
  // 16 bits in, 16 bits out, for PNG and TIFF.
  for (const char* name : {"deep_x2.png", "deep_tiff_x2.tif"}) {
    const at::Tensor d = read_out(name);
    EXPECT_EQ(d.scalar_type(), torch::kUInt16) << name;
    EXPECT_TRUE(torch::equal(d.to(torch::kInt), float_to_image(forward(deep), torch::kUInt16).to(torch::kInt))) << name;
  }
  EXPECT_EQ(read_out("photo_x2.jpg").sizes().vec(), (std::vector<int64_t>{26, 22, 3}));
  EXPECT_EQ(read_out("one_x2.png").sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(j["images"]["deep"]["bits"].get<int>(), 16);
}

TEST_F(RestoreApp, GtTableEqualsEvalAndSkipsWhatCannotBeScored) {
  torch::manual_seed(4);
  fs::create_directories(dir_ / "gt");
  for (const char* name : {"a", "b", "c", "d"})
    write_image((dir_ / "gt" / (std::string(name) + ".png")).string(), smooth_image(33, 31, 3, name[0]));
  // LR by the same degradation as the test sets; "c" has a gt of another size, "e" none.
  fs::create_directories(dir_ / "lr");
  for (const char* name : {"a", "b", "d"})
    write_image((dir_ / "lr" / (std::string(name) + ".png")).string(),
                bicubic_downsample(read_image((dir_ / "gt" / (std::string(name) + ".png")).string()), 2));
  write_image((dir_ / "lr/c.png").string(), random_image(10, 10, 3));
  write_image((dir_ / "lr/e.png").string(), random_image(16, 16, 3));
  std::string out;
  ASSERT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "lr").string(), "-o", (dir_ / "sr").string(), "--weights",
                                            weights_, "--gt", (dir_ / "gt").string(), "--baseline", "--json"},
                            &out),
            0)
      << out;
  EXPECT_NE(out.find("warning: not scored: c"), std::string::npos) << out;
  EXPECT_NE(out.find("e.png: no gt file"), std::string::npos) << out;
  const json run = json_of(out);
  EXPECT_EQ(run["count"].get<int>(), 5);  // every image restored, three scored
  ASSERT_EQ(run["skipped"].size(), 2u);
  EXPECT_EQ(run["baseline"], "bicubic");
  ASSERT_EQ(run_app_command("vss-restore", {"eval", "--gt", (dir_ / "gt").string(), "--res", (dir_ / "sr").string(),
                                            "--scale", "2", "--json"},
                            &out),
            0)
      << out;
  const json ev = json_of(out);
  for (const char* key : {"psnr", "ssim", "psnr_y", "ssim_y"})
    EXPECT_DOUBLE_EQ(run["mean"][key].get<double>(), ev["mean"][key].get<double>()) << key;
  for (const char* name : {"a", "b", "d"})
    EXPECT_DOUBLE_EQ(run["images"][name]["psnr_y"].get<double>(), ev["images"][name]["psnr_y"].get<double>()) << name;
  // The baseline is MATLAB bicubic's enlargement scored the same way.
  const at::Tensor gt_a = read_image((dir_ / "gt/a.png").string());
  const at::Tensor up = bicubic_upsample(bicubic_downsample(gt_a, 2), 2);
  EXPECT_DOUBLE_EQ(run["images"]["a"]["baseline"]["psnr_y"].get<double>(),
                   restore::psnr(up, mod_crop(gt_a, 2), {2, true}));
  // The table prints the mean and the gain over bicubic.
  ASSERT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "lr").string(), "-o", (dir_ / "sr2").string(), "--weights",
                                            weights_, "--gt", (dir_ / "gt").string(), "--baseline"},
                            &out),
            0)
      << out;
  EXPECT_NE(out.find("mean (3 images)"), std::string::npos) << out;
  EXPECT_NE(out.find("gain over bicubic"), std::string::npos) << out;
}

// --noise degrades clean inputs in float (not clipped) before the network: with conv_last
// zeroed the denoiser is the identity, so the output is the seeded noisy image itself.
TEST_F(RestoreApp, NoiseOnTheFlyIsTheSeededUnclippedNoise) {
  Config m = Config::parse(config_["model"].dump());
  m.apply_override("upscale=1");
  m.apply_override("upsampler=none");
  auto identity = restore::make_restoration_net(m);
  for (auto& p : identity->named_parameters())
    if (p.key().rfind("conv_last.", 0) == 0) p.value().detach().zero_();
  const std::string w = (dir_ / "identity.safetensors").string();
  restore::save_restoration_weights(*identity, restore::restore_config_yaml(m, nullptr, nullptr), w);
  fs::create_directories(dir_ / "clean");
  const at::Tensor img = smooth_image(19, 23, 3, 0.7);
  write_image((dir_ / "clean/pic.png").string(), img);
  std::string out;
  ASSERT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "clean").string(), "-o", (dir_ / "dn").string(), "--weights", w,
                                            "--noise", "15", "--seed", "3", "--gt", (dir_ / "clean").string(),
                                            "--baseline", "--json"},
                            &out),
            0)
      << out;
  const at::Tensor want = float_to_image(add_gaussian_noise(image_to_float(img), 15, 3), torch::kByte);
  const at::Tensor got = read_image((dir_ / "dn/pic.png").string());
  EXPECT_LE(max_abs_diff(got, want), 1.0);  // (x - mean) + mean in float32 may move a rounding by one
  const json j = json_of(out);
  EXPECT_NEAR(j["images"]["pic"]["psnr"].get<double>(), j["images"]["pic"]["baseline"]["psnr"].get<double>(), 0.05);
  EXPECT_EQ(j["noise"]["sigma"].get<double>(), 15.0);
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "clean").string(), "-o", (dir_ / "dn").string(), "--weights", w,
                                            "--noise", "-3"},
                            &out),
            2);
}

TEST_F(RestoreApp, DegradeWritesTheLibrarysDegradations) {
  torch::manual_seed(5);
  fs::create_directories(dir_ / "clean");
  const at::Tensor img = smooth_image(21, 18, 3, 0.5);
  write_image((dir_ / "clean/pic.png").string(), img);
  std::string out;
  ASSERT_EQ(run_app_command("vss-restore", {"degrade", "-i", (dir_ / "clean").string(), "-o", (dir_ / "x2").string(),
                                            "--bicubic", "2", "--filename-tmpl", "{}x2"},
                            &out),
            0)
      << out;
  EXPECT_TRUE(torch::equal(read_image((dir_ / "x2/picx2.png").string()), bicubic_downsample(img, 2)));
  ASSERT_EQ(run_app_command("vss-restore", {"degrade", "-i", (dir_ / "clean").string(), "-o", (dir_ / "q30").string(),
                                            "--jpeg", "30"},
                            &out),
            0)
      << out;
  EXPECT_TRUE(torch::equal(read_image((dir_ / "q30/pic.png").string()), jpeg_compress(img, 30)));
  ASSERT_EQ(run_app_command("vss-restore", {"degrade", "-i", (dir_ / "clean").string(), "-o", (dir_ / "n25").string(),
                                            "--noise", "25", "--seed", "3"},
                            &out),
            0)
      << out;
  const at::Tensor noisy = read_image((dir_ / "n25/pic.png").string());
  if (python_has({"torch", "numpy", "PIL"})) {
    // x + torch.normal(0, 25/255) with torch.Generator().manual_seed(3), clipped and rounded.
    ASSERT_EQ(run_python("import sys, torch, numpy as np; from PIL import Image\n"
                         "a = np.asarray(Image.open(sys.argv[1]))\n"
                         "x = torch.from_numpy((a / 255).astype(np.float32)).permute(2, 0, 1)\n"
                         "n = torch.normal(0.0, 25 / 255.0, x.shape, generator=torch.Generator().manual_seed(3))\n"
                         "y = np.round(np.clip((x + n).numpy(), 0, 1) * np.float32(255)).astype(np.uint8).transpose(1, 2, 0)\n"
                         "b = np.asarray(Image.open(sys.argv[2]))\n"
                         "print('equal' if (y == b).all() else 'differ %d' % (y != b).sum())",
                         {(dir_ / "clean/pic.png").string(), (dir_ / "n25/pic.png").string()}, &out),
              0)
        << out;
    EXPECT_NE(out.find("equal"), std::string::npos) << out;
  }
  // Exactly one degradation.
  EXPECT_EQ(run_app_command("vss-restore", {"degrade", "-i", (dir_ / "clean").string(), "-o", (dir_ / "z").string()}, &out), 2);
  EXPECT_EQ(run_app_command("vss-restore", {"degrade", "-i", (dir_ / "clean").string(), "-o", (dir_ / "z").string(),
                                            "--jpeg", "10", "--bicubic", "2"},
                            &out),
            2);
  EXPECT_EQ(run_app_command("vss-restore", {"degrade", "-i", (dir_ / "clean").string(), "-o", (dir_ / "z").string(),
                                            "--jpeg", "101"},
                            &out),
            2)
      << out;
}

TEST_F(RestoreApp, PackTrainFromTheBankExportAndRestore) {
  torch::manual_seed(6);
  fs::create_directories(dir_ / "data/train");
  fs::create_directories(dir_ / "data/val");
  write_image((dir_ / "data/train/t1.png").string(), smooth_image(30, 28, 3, 0.1));
  write_image((dir_ / "data/train/t2.png").string(), smooth_image(26, 32, 1, 0.2));
  write_image((dir_ / "data/val/v1.png").string(), smooth_image(24, 24, 3, 0.3));
  std::string out;
  const std::string bank = (dir_ / "bank.safetensors").string();
  ASSERT_EQ(run_app_command("vss-restore", {"pack", "-i", (dir_ / "data").string(), "-o", bank}, &out), 0) << out;
  EXPECT_NE(out.find("packed 3 image(s)"), std::string::npos) << out;
  Config train = Config::parse("task: {type: restoration, gt_size: 16, degradation: {type: bicubic, scale: 2}}\n"
                               "data: {bank: " + bank + ", train: {gt: train}, val: {gt: val}}\n"
                               "optimizer: {type: adamw, lr: 0.001}\n"
                               "train: {steps: 2, batch_size: 2, log_every: 1}\n");
  train.apply_override("model=" + config_["model"].dump());
  std::ofstream(dir_ / "train.yaml") << train.dump();
  ASSERT_EQ(run_app_command("vss-train", {"--config", (dir_ / "train.yaml").string(), "--work-dir",
                                          (dir_ / "run").string(), "--quiet"},
                            &out),
            0)
      << out;
  const std::string exported = (dir_ / "exported.safetensors").string();
  ASSERT_EQ(run_app_command("vss-restore", {"export", "--run", (dir_ / "run").string(), "--out", exported}, &out), 0) << out;
  ASSERT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "data/val").string(), "-o", (dir_ / "sr").string(),
                                            "--weights", exported},
                            &out),
            0)
      << out;
  EXPECT_EQ(read_image((dir_ / "sr/v1.png").string()).sizes().vec(), (std::vector<int64_t>{48, 48, 3}));
  // Exporting a run of another task is refused.
  EXPECT_EQ(run_app_command("vss-restore", {"export", "--run", (dir_ / "nothing").string(), "--out", exported}, &out), 1);
}

TEST_F(RestoreApp, BadInputIsOneLineAndNeverAPartialOutput) {
  fs::create_directories(dir_ / "in");
  write_image((dir_ / "in/good.png").string(), random_image(6, 6, 3));
  // A PNG cut short: the decoder fails; the run goes on, names it, and exits 1.
  {
    const auto bytes = encode_image(random_image(16, 16, 3), ".png");
    std::ofstream((dir_ / "in/cut.png").string(), std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() / 2));
  }
  std::ofstream(dir_ / "in/empty.jpg");
  // A header claiming more pixels than OpenCV decodes: skipped like the others, with the limit.
  std::ofstream(dir_ / "in/huge.png", std::ios::binary) << png_claiming_size(100000, 100000);
  std::string out;
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "in").string(), "-o", (dir_ / "out").string(), "--weights", weights_},
                            &out),
            1)
      << out;
  EXPECT_NE(out.find("cut.png"), std::string::npos) << out;
  EXPECT_NE(out.find("empty.jpg"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped " + (dir_ / "in/huge.png").string() + ": " + (dir_ / "in/huge.png").string() +
                     ": image too large: its header claims more than OpenCV decodes (1073741824 pixels"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("Assertion"), std::string::npos) << out;
  EXPECT_NE(out.find("3 of 4 image(s) could not be restored"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir_ / "out/good.png"));
  EXPECT_FALSE(fs::exists(dir_ / "out/cut.png"));
  for (const auto& e : fs::directory_iterator(dir_ / "out"))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  fs::remove(dir_ / "in/cut.png");
  fs::remove(dir_ / "in/empty.jpg");
  fs::remove(dir_ / "in/huge.png");

  // Usage errors (exit 2, one line): tile not larger than the overlap, unknown blend / format.
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"-t", "16", "--tile-overlap", "16"}, {"--tile", "8", "--tile-overlap", "32"}, {"--tile-blend", "feather"},
           {"--ext", "gif"}, {"--dtype", "fp16"}, {"--baseline"}}) {
    std::vector<std::string> args{"-i", (dir_ / "in").string(), "-o", (dir_ / "o2").string(), "--weights", weights_};
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_EQ(run_app_command("vss-restore", args, &out), 2) << extra[0] << ": " << out;
    EXPECT_LE(std::count(out.begin(), out.end(), '\n'), 2) << out;
  }
  EXPECT_NE(out.find("--baseline needs --gt"), std::string::npos) << out;

  // Weights for another scale: said so, with the tensor it was read from.
  {
    Config m = Config::parse(config_["model"].dump());
    m.apply_override("upscale=4");
    auto net4 = restore::make_restoration_net(m);
    restore::save_restoration_weights(*net4, restore::restore_config_yaml(m, nullptr, nullptr),
                                      (dir_ / "x4.safetensors").string());
  }
  const std::string x2_config = (source_dir() / "configs/restore/mambair_tiny_test.yaml").string();
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "in").string(), "-o", (dir_ / "o3").string(), "--weights",
                                            (dir_ / "x4.safetensors").string(), "--config", x2_config},
                            &out),
            1);
  EXPECT_NE(out.find("weights are for x4"), std::string::npos) << out;
  EXPECT_NE(out.find("upsample.0.weight [48, 30, 3, 3]"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "o3/good.png"));
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "in").string(), "-o", (dir_ / "o3").string(), "--weights",
                                            weights_, "-s", "4"},
                            &out),
            1);
  EXPECT_NE(out.find("--scale asks for x4"), std::string::npos) << out;
  // Weights without a config need --config; a missing file is named.
  save_weights(*net_, (dir_ / "bare.safetensors").string());
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "in").string(), "-o", (dir_ / "o3").string(), "--weights",
                                            (dir_ / "bare.safetensors").string()},
                            &out),
            1);
  EXPECT_NE(out.find("--config"), std::string::npos) << out;
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "in").string(), "-o", (dir_ / "o3").string(), "--weights",
                                            (dir_ / "bare.safetensors").string(), "--config", x2_config},
                            &out),
            0)
      << out;
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "nothing").string(), "-o", (dir_ / "o4").string(), "--weights",
                                            weights_},
                            &out),
            1);
  EXPECT_NE(out.find("nothing"), std::string::npos) << out;
  // Writing over the input is refused.
  EXPECT_EQ(run_app_command("vss-restore", {"-i", (dir_ / "in").string(), "-o", (dir_ / "in").string(), "--weights",
                                            weights_},
                            &out),
            1);
  EXPECT_NE(out.find("would overwrite the input"), std::string::npos) << out;
  EXPECT_EQ(read_image((dir_ / "in/good.png").string()).size(0), 6);
  // So is degrading in place (the default name template keeps the name).
  EXPECT_EQ(run_app_command("vss-restore", {"degrade", "-i", (dir_ / "in").string(), "-o", (dir_ / "in").string(),
                                            "--noise", "5"},
                            &out),
            1);
  EXPECT_NE(out.find("good.png: would overwrite the input"), std::string::npos) << out;
  EXPECT_EQ(read_image((dir_ / "in/good.png").string()).size(0), 6);
  // A full disk names the file and says so (pack writes one file; /dev/full refuses every byte).
  if (fs::is_character_file("/dev/full")) {
    EXPECT_EQ(run_app_command("vss-restore", {"pack", "-i", (dir_ / "in").string(), "-o", "/dev/full"}, &out), 1);
    EXPECT_NE(out.find("/dev/full: write failed: No space left on device"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace vss::test
