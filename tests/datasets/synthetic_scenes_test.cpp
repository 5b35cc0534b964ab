// Generated segmentation scenes: reproducible per (seed, index), any size down to 1x1, masks
// equal to an independent numpy rasterisation of the documented shape definitions, all
// classes present, and colour alone not enough to tell the classes apart.
#include "core/error.h"
#include "core/remove_tree.h"
#include "datasets/synthetic_scenes.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

namespace {

vss::SyntheticScenesOptions options(int64_t size, int64_t H, int64_t W, uint64_t seed) {
  vss::SyntheticScenesOptions o;
  o.size = size;
  o.height = H;
  o.width = W;
  o.seed = seed;
  return o;
}

TEST(SyntheticScenes, ScenesArePureFunctionsOfSeedAndIndex) {
  const vss::SyntheticScenes a(options(50, 40, 56, 9)), b(options(50, 40, 56, 9)), other(options(50, 40, 56, 10));
  for (int64_t i : {31, 0, 49, 7}) {  // any order
    const auto s = a.sample(i), t = b.sample(i);
    EXPECT_TRUE(torch::equal(s.image, t.image)) << i;
    EXPECT_TRUE(torch::equal(s.label, t.label)) << i;
    EXPECT_FALSE(torch::equal(s.image, other.sample(i).image)) << i;
  }
  EXPECT_TRUE(torch::equal(a.sample(3).image, a.sample(3).image));
  EXPECT_FALSE(torch::equal(a.sample(3).image, a.sample(4).image));
  const auto s = a.sample(12);
  EXPECT_EQ(s.image.sizes(), (std::vector<int64_t>{3, 40, 56}));
  EXPECT_EQ(s.image.scalar_type(), torch::kByte);
  EXPECT_EQ(s.label.sizes(), (std::vector<int64_t>{40, 56}));
  EXPECT_EQ(s.label.scalar_type(), torch::kLong);
  EXPECT_EQ(s.name, "scene_000012");
  EXPECT_EQ(a.num_classes(), 5);
  EXPECT_EQ(vss::SyntheticScenes::class_names().size(), 5u);
  EXPECT_THROW(a.sample(50), vss::Error);
  EXPECT_THROW(a.sample(-1), vss::Error);
}

TEST(SyntheticScenes, AnySizeDownToOnePixel) {
  for (auto [H, W] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {1, 40}, {7, 13}, {97, 3}}) {
    const vss::SyntheticScenes set(options(20, H, W, 1));
    for (int64_t i = 0; i < 20; ++i) {
      const auto s = set.sample(i);
      ASSERT_EQ(s.image.sizes(), (std::vector<int64_t>{3, H, W}));
      EXPECT_GE(s.label.min().item<int64_t>(), 0);
      EXPECT_LE(s.label.max().item<int64_t>(), 4);
    }
  }
  EXPECT_THROW(vss::SyntheticScenes(options(0, 8, 8, 1)), vss::Error);
  EXPECT_THROW(vss::SyntheticScenes(options(4, 0, 8, 1)), vss::Error);
}

// The geometry is drawn relative to the image, so the same scene at twice the size has
// exactly twice the coordinates (what lets a model trained small run on larger scenes).
TEST(SyntheticScenes, LayoutScalesWithTheImage) {
  const vss::SyntheticScenes small(options(10, 64, 64, 5)), large(options(10, 128, 128, 5));
  for (int64_t i = 0; i < 10; ++i) {
    const auto a = small.layout(i), b = large.layout(i);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].cls, b[k].cls);
      EXPECT_NEAR(2 * a[k].cx, b[k].cx, 1e-9);
      EXPECT_NEAR(2 * a[k].radius, b[k].radius, 1e-9);
      EXPECT_NEAR(2 * a[k].vertices[3], b[k].vertices[3], 1e-9);
    }
  }
}

TEST(SyntheticScenes, MasksEqualAnIndependentNumpyRasterisation) {
  if (!vss::test::python_has({"numpy"})) GTEST_SKIP() << "no numpy";
  const int64_t H = 45, W = 61, n = 12;
  const vss::SyntheticScenes set(options(n, H, W, 21));
  nlohmann::json scenes = nlohmann::json::array();
  std::vector<at::Tensor> labels;
  for (int64_t i = 0; i < n; ++i) {
    nlohmann::json objects = nlohmann::json::array();
    for (const auto& o : set.layout(i))
      objects.push_back({{"cls", o.cls}, {"cx", o.cx}, {"cy", o.cy}, {"r", o.radius}, {"angle", o.angle},
                         {"hw", o.half_w}, {"hh", o.half_h}, {"v", o.vertices}, {"h", o.harmonics}});
    scenes.push_back(objects);
    labels.push_back(set.sample(i).label);
  }
  const auto dir = vss::test::make_temp_dir("vss-scenes");
  std::ofstream(dir / "layout.json") << nlohmann::json{{"H", H}, {"W", W}, {"scenes", scenes}}.dump();
  const at::Tensor all = torch::stack(labels).contiguous();
  std::ofstream(dir / "labels.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(all.data_ptr<int64_t>()), all.numel() * 8);
  // Written from the definitions in synthetic_scenes.h: painter's order, pixel centres.
  const std::string script = R"(
import sys, json, numpy as np
d = json.load(open(sys.argv[1] + '/layout.json'))
H, W = d['H'], d['W']
ours = np.fromfile(sys.argv[1] + '/labels.bin', dtype=np.int64).reshape(-1, H, W)
y, x = np.mgrid[0:H, 0:W].astype(np.float64) + 0.5
bad, present = [], set()
for scene, mine in zip(d['scenes'], ours):
    lab = np.zeros((H, W), np.int64)
    for o in scene:
        dx, dy = x - o['cx'], y - o['cy']
        if o['cls'] == 1:
            m = dx * dx + dy * dy <= o['r'] ** 2
        elif o['cls'] == 2:
            u = dx * np.cos(o['angle']) + dy * np.sin(o['angle'])
            v = -dx * np.sin(o['angle']) + dy * np.cos(o['angle'])
            m = (np.abs(u) <= o['hw']) & (np.abs(v) <= o['hh'])
        elif o['cls'] == 3:
            p = np.array(o['v']).reshape(3, 2)
            c = [(p[(k + 1) % 3, 0] - p[k, 0]) * (y - p[k, 1]) - (p[(k + 1) % 3, 1] - p[k, 1]) * (x - p[k, 0]) for k in range(3)]
            m = ((c[0] >= 0) & (c[1] >= 0) & (c[2] >= 0)) | ((c[0] <= 0) & (c[1] <= 0) & (c[2] <= 0))
        else:
            a = o['h']; phi = np.arctan2(dy, dx)
            rho = o['r'] * (1 + a[0] * np.sin(2 * phi + a[1]) + a[2] * np.sin(3 * phi + a[3]) + a[4] * np.sin(5 * phi + a[5]))
            m = dx * dx + dy * dy <= rho * rho
        lab[m] = o['cls']
    present |= set(np.unique(lab).tolist())
    bad.append(int((lab != mine).sum()))
print(json.dumps({'mismatch': bad, 'classes': sorted(present)}))
)";
  std::string out;
  ASSERT_EQ(vss::test::run_python(script, {dir.string()}, &out), 0) << out;
  vss::remove_tree(dir);
  const auto ref = nlohmann::json::parse(out);
  // Shapes whose edge passes within rounding of a pixel centre may differ by a pixel.
  for (int64_t i = 0; i < n; ++i) EXPECT_LE(ref["mismatch"][i].get<int64_t>(), 1) << "scene " << i;
  EXPECT_EQ(ref["classes"], nlohmann::json({0, 1, 2, 3, 4}));
}

// Every class covers a fair share of the pixels, and a nearest-mean-colour classifier of the
// object pixels is far from perfect: the shape has to be looked at, not just the colour.
TEST(SyntheticScenes, ClassesAreBalancedAndNotSeparableByColour) {
  const vss::SyntheticScenes set(options(150, 48, 48, 2));
  std::vector<at::Tensor> images, labels;
  for (int64_t i = 0; i < set.size(); ++i) {
    const auto s = set.sample(i);
    images.push_back(s.image.reshape({3, -1}).t().to(torch::kDouble));
    labels.push_back(s.label.reshape(-1));
  }
  const at::Tensor pixels = torch::cat(images), label = torch::cat(labels);
  const at::Tensor counts = torch::bincount(label, {}, 5).to(torch::kDouble) / static_cast<double>(label.numel());
  for (int64_t c = 0; c < 5; ++c) EXPECT_GT(counts[c].item<double>(), 0.04) << "class " << c << ": " << counts;
  EXPECT_GT(counts[0].item<double>(), 0.3);  // background dominates, as in real scenes

  const at::Tensor fg = label > 0;
  const at::Tensor fg_pixels = pixels.index({fg}), fg_label = label.index({fg});
  std::vector<at::Tensor> means;
  for (int64_t c = 1; c < 5; ++c) means.push_back(fg_pixels.index({fg_label == c}).mean(0));
  const at::Tensor nearest = torch::cdist(fg_pixels, torch::stack(means)).argmin(1) + 1;
  const double accuracy = nearest.eq(fg_label).to(torch::kDouble).mean().item<double>();
  EXPECT_LT(accuracy, 0.45) << "colour alone classifies the objects";
}

}  // namespace
