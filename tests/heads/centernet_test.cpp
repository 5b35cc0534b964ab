// CenterNet head: gaussian radius against the published formula worked by hand and against
// CenterNet's own functions (typed into a Python oracle from src/lib/utils/image.py and
// models/losses.py), the focal loss on a hand-computed case, targets, decoding of a
// hand-built heatmap, and the model's shapes, initialisation and one training step.
#include "heads/detect/box_decoder.h"
#include "heads/detect/centernet.h"
#include "heads/detect/centernet_losses.h"
#include "heads/detect/centernet_targets.h"
#include "heads/detect/gaussian_target.h"
#include "core/config.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

namespace vss::test {
namespace {

TEST(GaussianRadius, SquareBoxByHand) {
  // h = w = 10, overlap 0.7: r1 = (20 + sqrt(400 - 4·30/1.7)) / 2, r2 = (40 + sqrt(1600 - 16·30)) / 2,
  // r3 = (-28 + sqrt(784 + 4·2.8·30)) / 2 = (-28 + sqrt(1120)) / 2 = 2.7332..., the smallest.
  EXPECT_NEAR(detect::gaussian_radius(10, 10), (-28 + std::sqrt(1120.0)) / 2, 1e-12);
  EXPECT_NEAR(detect::gaussian_radius(10, 10), 2.7332005306815113, 1e-12);
  // A zero-area box needs no radius.
  EXPECT_NEAR(detect::gaussian_radius(0, 0), 0, 1e-12);
}

TEST(GaussianTarget, SplatOfRadiusOneByHand) {
  // radius 1: diameter 3, sigma 0.5, so the neighbours get exp(-1/0.5) = e^-2, corners e^-4.
  at::Tensor h = torch::zeros({4, 5});
  detect::draw_gaussian(h, 1, 2, 1);
  EXPECT_FLOAT_EQ(h[2][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(h[1][1].item<float>(), static_cast<float>(std::exp(-2.0)));
  EXPECT_FLOAT_EQ(h[3][2].item<float>(), static_cast<float>(std::exp(-4.0)));
  EXPECT_FLOAT_EQ(h[0][1].item<float>(), 0.0f);
  // Maximum, not sum: a second weaker splat does not raise the peak.
  detect::draw_gaussian(h, 2, 2, 1);
  EXPECT_FLOAT_EQ(h[2][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(h[2][2].item<float>(), 1.0f);
  // Cut at the border without error.
  detect::draw_gaussian(h, 0, 0, 3);
  EXPECT_FLOAT_EQ(h[0][0].item<float>(), 1.0f);
}

TEST(CenterNetLoss, FocalLossByHand) {
  // pos p = 0.9: -log(0.9)·0.1²; neg gt 0.5, p 0.2: -log(0.8)·0.2²·0.5⁴; neg gt 0, p 0.6:
  // -log(0.4)·0.6²; one positive.
  const at::Tensor pred = torch::tensor({0.9f, 0.2f, 0.6f}).view({1, 1, 1, 3});
  const at::Tensor gt = torch::tensor({1.0f, 0.5f, 0.0f}).view({1, 1, 1, 3});
  EXPECT_NEAR(detect::centernet_focal_loss(pred, gt).item<double>(), 0.33147612750955957, 1e-6);
  // No positive: the negative part alone (divided by 1).
  const at::Tensor gt0 = torch::tensor({0.0f, 0.5f, 0.0f}).view({1, 1, 1, 3});
  const double neg = -(std::log(0.1) * 0.81 + std::log(0.8) * 0.04 * 0.0625 + std::log(0.4) * 0.36);
  EXPECT_NEAR(detect::centernet_focal_loss(pred, gt0).item<double>(), neg, 1e-6);
}

TEST(CenterNetLoss, MaskedL1ByHand) {
  at::Tensor pred = torch::zeros({1, 2, 2, 2}), target = torch::zeros({1, 2, 2, 2}), mask = torch::zeros({1, 1, 2, 2});
  pred[0][0][1][1] = 3, pred[0][1][1][1] = 1, target[0][0][1][1] = 5, target[0][1][1][1] = 2;
  pred[0][0][0][0] = 100;  // not masked: no loss
  mask[0][0][1][1] = 1;
  // (|3-5| + |1-2|) / (2 + 1e-4)
  EXPECT_NEAR(detect::masked_l1_loss(pred, target, mask).item<double>(), 3 / (2 + 1e-4), 1e-6);
}

TEST(CenterNetTargets, OneBoxByHand) {
  // Box (8, 4)-(40, 28) in input pixels -> (2, 1)-(10, 7) at stride 4: w 8, h 6, centre
  // (6, 4) exactly, so offset 0; radius int(gaussian_radius(6, 8)).
  const at::Tensor t = detect::centernet_targets(torch::tensor({{8.0, 4.0, 40.0, 28.0}}), torch::tensor({1L}), 2, 16, 16);
  ASSERT_EQ(t.sizes(), (at::IntArrayRef{7, 16, 16}));
  EXPECT_FLOAT_EQ(t[1][4][6].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[0].sum().item<float>(), 0.0f);  // class 0 untouched
  EXPECT_FLOAT_EQ(t[2][4][6].item<float>(), 8.0f);
  EXPECT_FLOAT_EQ(t[3][4][6].item<float>(), 6.0f);
  EXPECT_FLOAT_EQ(t[4][4][6].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t[6].sum().item<float>(), 1.0f);
  const auto r = static_cast<int64_t>(detect::gaussian_radius(6, 8));
  EXPECT_EQ(r, 1);  // (b3 + sqrt(disc)) / 2 with b3 = -19.6, disc = 384.16 + 4·2.8·14.4 = 545.44
  EXPECT_GT(t[1][4][6 + r].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t[1][4][6 + r + 1].item<float>(), 0.0f);
  // Offsets: centre (13/4, 9/4)... a box (10, 6)-(16, 12): centre (3.25, 2.25) -> pixel (3, 2), offset (.25, .25).
  const at::Tensor u = detect::centernet_targets(torch::tensor({{10.0, 6.0, 16.0, 12.0}}), torch::tensor({0L}), 1, 8, 8);
  EXPECT_FLOAT_EQ(u[3][2][3].item<float>(), 0.25f);
  EXPECT_FLOAT_EQ(u[4][2][3].item<float>(), 0.25f);
  EXPECT_FLOAT_EQ(u[1][2][3].item<float>(), 1.5f);
}

TEST(CenterNetDecode, HandBuiltHeatmap) {
  at::Tensor heat = torch::zeros({1, 2, 8, 8}), wh = torch::zeros({1, 2, 8, 8}), reg = torch::zeros({1, 2, 8, 8});
  heat[0][0][2][3] = 0.9;  // a peak
  heat[0][0][2][4] = 0.8;  // its neighbour: not a peak (3x3 max is 0.9)
  heat[0][1][6][6] = 0.5;  // a peak of class 1
  heat[0][0][6][0] = 0.3;  // a peak, cut by the threshold
  wh[0][0][2][3] = 4, wh[0][1][2][3] = 6, reg[0][0][2][3] = 0.5, reg[0][1][2][3] = 0.25;
  wh[0][0][6][6] = 2, wh[0][1][6][6] = 2;
  detect::DecodeOptions o;
  o.top_k = 10;
  o.score_threshold = 0.4;
  const auto dets = detect::decode_centernet(heat, wh, reg, o);
  ASSERT_EQ(dets.size(), 1u);
  ASSERT_EQ(dets[0].size(), 2u);
  const detect::Detection& a = dets[0][0];
  // centre (3.5, 2.25), size 4 x 6 -> (1.5, -0.75)-(5.5, 5.25), times stride 4.
  EXPECT_DOUBLE_EQ(a.x1, 6);
  EXPECT_DOUBLE_EQ(a.y1, -3);
  EXPECT_DOUBLE_EQ(a.x2, 22);
  EXPECT_DOUBLE_EQ(a.y2, 21);
  EXPECT_NEAR(a.score, 0.9, 1e-7);
  EXPECT_EQ(a.cls, 0);
  EXPECT_EQ(dets[0][1].cls, 1);
  EXPECT_DOUBLE_EQ(dets[0][1].x1, 20);
  EXPECT_DOUBLE_EQ(dets[0][1].y2, 28);
  // top_k = 1 keeps the best only; no threshold keeps the 0.3 peak as well.
  o.top_k = 1;
  EXPECT_EQ(detect::decode_centernet(heat, wh, reg, o)[0].size(), 1u);
  o.top_k = 10;
  o.score_threshold = 0;
  EXPECT_EQ(detect::decode_centernet(heat, wh, reg, o)[0].size(), 3u);
}

constexpr char kCenterNetOracle[] = R"PY(
# CenterNet's functions as published (xingyizhou/CenterNet src/lib/utils/image.py, models/losses.py).
import sys, numpy as np, torch
def gaussian_radius(det_size, min_overlap=0.7):
  height, width = det_size
  a1 = 1; b1 = (height + width); c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
  sq1 = np.sqrt(b1 ** 2 - 4 * a1 * c1); r1 = (b1 + sq1) / 2
  a2 = 4; b2 = 2 * (height + width); c2 = (1 - min_overlap) * width * height
  sq2 = np.sqrt(b2 ** 2 - 4 * a2 * c2); r2 = (b2 + sq2) / 2
  a3 = 4 * min_overlap; b3 = -2 * min_overlap * (height + width); c3 = (min_overlap - 1) * width * height
  sq3 = np.sqrt(b3 ** 2 - 4 * a3 * c3); r3 = (b3 + sq3) / 2
  return min(r1, r2, r3)
def gaussian2D(shape, sigma=1):
  m, n = [(ss - 1.) / 2. for ss in shape]
  y, x = np.ogrid[-m:m+1, -n:n+1]
  h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
  h[h < np.finfo(h.dtype).eps * h.max()] = 0
  return h
def draw_umich_gaussian(heatmap, center, radius, k=1):
  diameter = 2 * radius + 1
  gaussian = gaussian2D((diameter, diameter), sigma=diameter / 6)
  x, y = int(center[0]), int(center[1])
  height, width = heatmap.shape[0:2]
  left, right = min(x, radius), min(width - x, radius + 1)
  top, bottom = min(y, radius), min(height - y, radius + 1)
  masked_heatmap = heatmap[y - top:y + bottom, x - left:x + right]
  masked_gaussian = gaussian[radius - top:radius + bottom, radius - left:radius + right]
  if min(masked_gaussian.shape) > 0 and min(masked_heatmap.shape) > 0:
    np.maximum(masked_heatmap, masked_gaussian * k, out=masked_heatmap)
  return heatmap
def _neg_loss(pred, gt):
  pos_inds = gt.eq(1).float(); neg_inds = gt.lt(1).float()
  neg_weights = torch.pow(1 - gt, 4)
  loss = 0
  pos_loss = torch.log(pred) * torch.pow(1 - pred, 2) * pos_inds
  neg_loss = torch.log(1 - pred) * torch.pow(pred, 2) * neg_weights * neg_inds
  num_pos = pos_inds.float().sum(); pos_loss = pos_loss.sum(); neg_loss = neg_loss.sum()
  if num_pos == 0: loss = loss - neg_loss
  else: loss = loss - (pos_loss + neg_loss) / num_pos
  return loss
out = []
for h, w in [(3, 5), (10, 10), (37.2, 12.9), (100, 40), (1, 1), (250, 300), (7, 90)]:
  out.append("%.17g" % float(gaussian_radius((h, w))))
hm = np.zeros((40, 50), dtype=np.float32)
rng = np.random.RandomState(int(sys.argv[1]))
boxes = []
for i in range(12):
  x1, y1 = rng.uniform(-5, 45), rng.uniform(-5, 35); bw, bh = rng.uniform(0.5, 20), rng.uniform(0.5, 20)
  b = np.array([x1, y1, x1 + bw, y1 + bh], dtype=np.float32)
  b[[0, 2]] = np.clip(b[[0, 2]], 0, 50 - 1); b[[1, 3]] = np.clip(b[[1, 3]], 0, 40 - 1)
  hh, ww = b[3] - b[1], b[2] - b[0]
  if hh > 0 and ww > 0:
    r = max(0, int(gaussian_radius((np.ceil(hh), np.ceil(ww)))))
    ct = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2], dtype=np.float32).astype(np.int32)
    draw_umich_gaussian(hm, ct, r)
  boxes.append([x1 * 4, y1 * 4, (x1 + bw) * 4, (y1 + bh) * 4])
print(" ".join(out))
print(" ".join("%.17g" % v for v in np.array(boxes).ravel()))
print(" ".join("%.9g" % v for v in hm.ravel()))
logits = torch.from_numpy(rng.normal(0, 2, size=(1, 1, 40, 50)).astype(np.float32))
pred = torch.clamp(logits.sigmoid(), min=1e-4, max=1 - 1e-4)  # _sigmoid, on a copy
print(" ".join("%.9g" % v for v in logits.numpy().ravel()))
print(repr(float(_neg_loss(pred, torch.from_numpy(hm).view(1, 1, 40, 50)))))
)PY";

TEST(CenterNetOracle, RadiusTargetsAndFocalLossMatchCenterNetCode) {
  if (!python_has({"numpy", "torch"})) GTEST_SKIP() << "numpy/torch not importable by $VSS_PYTHON";
  for (int seed : {1, 2, 3}) {
    std::string out;
    ASSERT_EQ(run_python(kCenterNetOracle, {std::to_string(seed)}, &out), 0) << out;
    std::istringstream lines(out);
    std::string radii, boxes, heat, logits, loss;
    std::getline(lines, radii), std::getline(lines, boxes), std::getline(lines, heat), std::getline(lines, logits),
        std::getline(lines, loss);
    const at::Tensor r = from_text(radii, {7});
    const double sizes[7][2] = {{3, 5}, {10, 10}, {37.2, 12.9}, {100, 40}, {1, 1}, {250, 300}, {7, 90}};
    for (int i = 0; i < 7; ++i)
      EXPECT_NEAR(detect::gaussian_radius(sizes[i][0], sizes[i][1]), r[i].item<double>(), 1e-9) << i;
    // The same boxes in input pixels (stride 4) give the oracle's heatmap.
    const at::Tensor b = from_text(boxes, {12, 4}).to(torch::kFloat32);
    const at::Tensor t = detect::centernet_targets(b, torch::zeros({12}, torch::kLong), 1, 40, 50);
    const at::Tensor expected = from_text(heat, {1, 40, 50});
    EXPECT_LT(max_abs_diff(t.narrow(0, 0, 1), expected), 1e-6) << "seed " << seed;
    const at::Tensor x = from_text(logits, {1, 1, 40, 50}).to(torch::kFloat32);
    const double l = detect::centernet_focal_loss(detect::clamped_sigmoid(x), t.narrow(0, 0, 1).unsqueeze(0)).item<double>();
    EXPECT_NEAR(l, std::stod(loss), 1e-4 * std::max(1.0, std::abs(std::stod(loss)))) << "seed " << seed;
  }
}

Config tiny_model_config() {
  return Config::parse(R"(
type: centernet
num_classes: 2
backbone: {type: vssm_backbone, patch_size: 4, in_chans: 3, depths: [1, 1, 1, 1], dims: [8, 8, 16, 16],
           ssm_d_state: 1, ssm_ratio: 1.0, ssm_conv: 3, ssm_conv_bias: false, forward_type: v05_noz,
           mlp_ratio: 2.0, norm_layer: ln2d, downsample_version: v3, patchembed_version: v2, scan: {type: cross}}
neck: {channels: 16}
head: {head_conv: 8}
test: {top_k: 5, score_threshold: 0.0}
)",
                       "centernet_test");
}

TEST(CenterNetModel, ShapesInitAndKeyNames) {
  torch::manual_seed(0);
  detect::CenterNet model = detect::make_centernet(tiny_model_config());
  const auto out = model->forward(torch::randn({2, 3, 64, 96}));
  EXPECT_EQ(out.heatmap.sizes(), (at::IntArrayRef{2, 2, 16, 24}));
  EXPECT_EQ(out.wh.sizes(), (at::IntArrayRef{2, 2, 16, 24}));
  EXPECT_EQ(out.reg.sizes(), (at::IntArrayRef{2, 2, 16, 24}));
  const auto params = model->named_parameters();
  ASSERT_TRUE(params.contains("hm.2.bias"));
  EXPECT_TRUE(torch::allclose(params["hm.2.bias"], torch::full({2}, -2.19)));
  EXPECT_TRUE(params.contains("wh.0.weight") && params.contains("reg.2.weight"));
  EXPECT_TRUE(params.contains("backbone.patch_embed.0.weight"));
  // Any input size: padded to 32, boxes clipped to the image, at most top_k.
  model->eval();
  torch::NoGradGuard ng;
  const auto dets = model->detect(torch::randint(0, 255, {1, 3, 50, 70}).to(torch::kUInt8));
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_LE(dets[0].size(), 5u);
  for (const auto& d : dets[0]) {
    EXPECT_GE(d.x1, 0);
    EXPECT_LE(d.x2, 70);
    EXPECT_LE(d.y2, 50);
  }
}

TEST(CenterNetModel, TrainingStepsLowerTheLoss) {
  torch::manual_seed(0);
  detect::CenterNet model = detect::make_centernet(tiny_model_config());
  const at::Tensor images = torch::rand({2, 3, 64, 64}) * 255;
  const at::Tensor targets =
      torch::stack({detect::centernet_targets(torch::tensor({{8.0, 8.0, 30.0, 40.0}}), torch::tensor({0L}), 2, 16, 16),
                    detect::centernet_targets(torch::tensor({{30.0, 20.0, 60.0, 44.0}}), torch::tensor({1L}), 2, 16, 16)});
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  for (int i = 0; i < 30; ++i) {
    opt.zero_grad();
    const auto l = detect::centernet_loss(model->forward(model->normalize(images)), targets);
    l.total.backward();
    opt.step();
    (i == 0 ? first : last) = l.total.item<double>();
  }
  EXPECT_LT(last, 0.5 * first);
}

TEST(CenterNetModel, BadConfigNamesTheKey) {
  Config c = tiny_model_config();
  c.apply_override("neck.width=3");
  EXPECT_NE(error_of([&] { detect::make_centernet(c); }).find("width"), std::string::npos);
  Config d = tiny_model_config();
  d.apply_override("type=yolo");
  EXPECT_NE(error_of([&] { detect::make_centernet(d); }).find("unknown detector 'yolo'"), std::string::npos);
}

}  // namespace
}  // namespace vss::test
