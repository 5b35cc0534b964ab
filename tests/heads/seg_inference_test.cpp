#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/seg/seg_inference.h"
#include "heads/slide_inference.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <fstream>

namespace {

using vss::seg::InferenceOptions;

std::vector<std::array<int64_t, 4>> as_arrays(const std::vector<vss::SlideWindow>& windows) {
  std::vector<std::array<int64_t, 4>> out;
  for (const auto& w : windows) out.push_back({w.top, w.top + w.height, w.left, w.left + w.width});
  return out;
}

InferenceOptions slide(int64_t crop_h, int64_t crop_w, int64_t stride_h, int64_t stride_w) {
  InferenceOptions o;
  o.mode = "slide";
  o.crop_h = crop_h;
  o.crop_w = crop_w;
  o.stride_h = stride_h;
  o.stride_w = stride_w;
  return o;
}

}  // namespace

// The rectangular grid (heads/slide_inference.h) in the ADE20K and Cityscapes settings, as
// [y1, y2, x1, x2]; grid sizes from the formula, evaluated by hand:
//   512 x 683, crop 512, stride 341: h = (0 + 340) / 341 + 1 = 1, w = (171 + 340) / 341 + 1 = 2;
//   the second window starts at 341, ends at min(853, 683) = 683 and is shifted back to 171.
//   1000 x 300: h = (488 + 340) / 341 + 1 = 3 (starts 0, 341, 682 -> shifted to 488); w = 1 (whole width).
TEST(SegInferenceTest, window_grid_follows_the_mmseg_formula) {
  EXPECT_EQ(as_arrays(vss::slide_windows(512, 683, 512, 512, 341, 341)),
            (std::vector<std::array<int64_t, 4>>{{0, 512, 0, 512}, {0, 512, 171, 683}}));
  EXPECT_EQ(as_arrays(vss::slide_windows(1000, 300, 512, 512, 341, 341)),
            (std::vector<std::array<int64_t, 4>>{{0, 512, 0, 300}, {341, 853, 0, 300}, {488, 1000, 0, 300}}));
  // Cityscapes setting: 1024 x 2048, crop 512 x 1024, stride 341 x 682 -> h (512+340)/341+1 = 3, w (1024+681)/682+1 = 3.
  EXPECT_EQ(vss::slide_windows(1024, 2048, 512, 1024, 341, 682).size(), 9u);
  EXPECT_THROW(vss::slide_windows(10, 10, 0, 4, 2, 2), vss::Error);
}

// A per-pixel network (1x1 conv) gives the same logits whether it sees the whole image or
// overlapping rectangular windows.
TEST(SegInferenceTest, per_pixel_model_gives_whole_image_logits) {
  torch::manual_seed(0);
  const auto weight = torch::randn({5, 3, 1, 1});
  const auto bias = torch::randn({5});
  const vss::seg::LogitsFn net = [&](const at::Tensor& x) { return torch::conv2d(x, weight, bias); };
  const auto images = torch::randn({2, 3, 37, 53});
  const auto whole = vss::seg::infer_logits(net, images, InferenceOptions{});
  EXPECT_EQ(whole.sizes(), (std::vector<int64_t>{2, 5, 37, 53}));
  const auto sliding = vss::seg::infer_logits(net, images, slide(16, 24, 10, 13));
  EXPECT_LT(vss::test::max_abs_diff(sliding, whole), 1e-5);
  // A crop larger than the image is one window: the whole image.
  EXPECT_EQ(vss::slide_windows(37, 53, 512, 512, 341, 341).size(), 1u);
  EXPECT_TRUE(torch::equal(vss::seg::infer_logits(net, images, slide(512, 512, 341, 341)), whole));
}

TEST(SegInferenceTest, bad_input_is_an_error) {
  const vss::seg::LogitsFn net = [](const at::Tensor& x) { return x; };
  EXPECT_THROW(vss::seg::infer_logits(net, torch::zeros({3, 8, 8}), InferenceOptions{}), vss::Error);
  InferenceOptions bad;
  bad.mode = "tiles";
  EXPECT_THROW(vss::seg::infer_logits(net, torch::zeros({1, 3, 8, 8}), bad), vss::Error);
  const vss::seg::LogitsFn flat = [](const at::Tensor& x) { return x.flatten(); };
  EXPECT_THROW(vss::seg::infer_logits(flat, torch::zeros({1, 3, 8, 8}), InferenceOptions{}), vss::Error);
}

// Against mmseg's slide_inference re-written in Python torch (from EncoderDecoder.slide_inference
// and encode_decode's bilinear resize) on a network with spatial context (3x3 conv, stride 2),
// where overlapping windows really differ from the whole image.
TEST(SegInferenceTest, matches_python_torch_version_of_mmseg_slide_inference) {
  if (!vss::test::python_has({"torch", "numpy"})) GTEST_SKIP() << "no torch in the Python venv";
  torch::manual_seed(3);
  const auto weight = torch::randn({4, 3, 3, 3}, torch::kFloat);
  const auto bias = torch::randn({4}, torch::kFloat);
  const auto images = torch::randn({2, 3, 45, 70}, torch::kFloat);
  const vss::seg::LogitsFn net = [&](const at::Tensor& x) { return torch::conv2d(x, weight, bias, 2, 1); };
  const auto ours = vss::seg::infer_logits(net, images, slide(32, 40, 20, 25));
  const auto whole = vss::seg::infer_logits(net, images, InferenceOptions{});
  EXPECT_GT(vss::test::max_abs_diff(ours, whole), 1e-2);  // the windows matter here

  const auto dir = vss::test::make_temp_dir("vss-slide");
  for (const auto& [name, t] : {std::pair{"w", weight}, {"b", bias}, {"x", images}, {"ours", ours}}) {
    std::ofstream out(dir / (std::string(name) + ".bin"), std::ios::binary);
    const auto c = t.contiguous();
    out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), c.numel() * 4);
  }
  const std::string script = R"(
import sys, numpy as np, torch, torch.nn.functional as F
d = sys.argv[1]
load = lambda n, shape: torch.from_numpy(np.fromfile(d + '/' + n + '.bin', dtype=np.float32).reshape(shape))
w, b, x = load('w', (4, 3, 3, 3)), load('b', (4,)), load('x', (2, 3, 45, 70))
def encode_decode(img):
    out = F.conv2d(img, w, b, stride=2, padding=1)
    return F.interpolate(out, size=img.shape[2:], mode='bilinear', align_corners=False)
h_stride, w_stride, h_crop, w_crop = 20, 25, 32, 40
B, _, h_img, w_img = x.shape
h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
preds = x.new_zeros((B, 4, h_img, w_img)); count = x.new_zeros((B, 1, h_img, w_img))
for h_idx in range(h_grids):
    for w_idx in range(w_grids):
        y1, x1 = h_idx * h_stride, w_idx * w_stride
        y2, x2 = min(y1 + h_crop, h_img), min(x1 + w_crop, w_img)
        y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
        logit = encode_decode(x[:, :, y1:y2, x1:x2])
        preds += F.pad(logit, (int(x1), int(w_img - x2), int(y1), int(h_img - y2)))
        count[:, :, y1:y2, x1:x2] += 1
assert (count == 0).sum() == 0
ref = preds / count
print(float((ref - load('ours', ref.shape)).abs().max()))
)";
  std::string out;
  ASSERT_EQ(vss::test::run_python(script, {dir.string()}, &out), 0) << out;
  vss::remove_tree(dir);
  EXPECT_LT(std::stod(out), 1e-5) << out;
}
