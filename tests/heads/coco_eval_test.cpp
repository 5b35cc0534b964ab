// COCOeval (bbox) against pycocotools itself: generated gt and detections with several
// categories, crowd regions, images without boxes, boxes of every area range, duplicates and
// tied scores; the oracle's 12 stats must equal ours. Plus small cases worked by hand.
#include "heads/detect/coco_eval.h"
#include "core/remove_tree.h"
#include "datasets/coco_detection.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

namespace vss::test {
namespace {

coco::Instances two_image_gt() {
  coco::Instances gt;
  gt.images = {{1, "a.jpg", 200, 200}, {2, "b.jpg", 200, 200}};
  gt.categories = {{1, "person"}};
  gt.annotations = {{1, 1, 1, 10, 10, 50, 100, 5000, false}, {2, 2, 1, 100, 100, 50, 50, 2500, false}};
  return gt;
}

TEST(CocoEval, PerfectDetectionsScoreOne) {
  const auto gt = two_image_gt();
  const std::vector<coco::Result> res = {{1, 1, 10, 10, 50, 100, 0.9}, {2, 1, 100, 100, 50, 50, 0.8}};
  const auto s = detect::coco_evaluate(gt, res).combined;
  EXPECT_DOUBLE_EQ(s.ap, 1);
  EXPECT_DOUBLE_EQ(s.ap50, 1);
  EXPECT_DOUBLE_EQ(s.ar100, 1);
  EXPECT_DOUBLE_EQ(s.ar1, 1);
  EXPECT_DOUBLE_EQ(s.ap_small, -1);  // no small gt: nothing to score
  EXPECT_DOUBLE_EQ(s.ap_medium, 1);  // areas 5000 and 2500: both in [32², 96²]
  EXPECT_DOUBLE_EQ(s.ap_large, -1);  // nothing above 96²
}

TEST(CocoEval, HalfRecallByHand) {
  // One of two gt found, at the top score: precision 1 up to recall 0.5, then 0 -> 51/101 of
  // the 101 recall points; recall 0.5 at every threshold.
  const auto gt = two_image_gt();
  const std::vector<coco::Result> res = {{1, 1, 10, 10, 50, 100, 0.9}};
  const auto s = detect::coco_evaluate(gt, res).combined;
  EXPECT_NEAR(s.ap, 51.0 / 101, 1e-12);
  EXPECT_NEAR(s.ar100, 0.5, 1e-12);
}

TEST(CocoEval, ResultsOnUnknownImagesAreAnError) {
  const auto gt = two_image_gt();
  const std::vector<coco::Result> res = {{7, 1, 10, 10, 50, 100, 0.9}};
  EXPECT_NE(error_of([&] { detect::coco_evaluate(gt, res, "det.json"); }).find("det.json: [0].image_id: image 7"),
            std::string::npos);
}

constexpr char kPycocotoolsOracle[] = R"PY(
import sys, io, contextlib
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
  gt = COCO(sys.argv[1])
  dt = gt.loadRes(sys.argv[2])
  e = COCOeval(gt, dt, 'bbox')
  e.evaluate(); e.accumulate(); e.summarize()
print(" ".join(repr(float(v)) for v in e.stats))
)PY";

// Random gt and detections: per image 0-12 gt of 3 categories (some images none), sizes from
// tiny to large, ~10% crowd; detections jittered copies, misses, false positives, duplicates,
// scores with ties, a detection-only image, and more than 100 detections on one image.
void make_case(uint64_t seed, coco::Instances* gt, std::vector<coco::Result>* res) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  gt->categories = {{1, "person"}, {2, "car"}, {5, "bike"}};
  int64_t ann_id = 1;
  for (int64_t img = 1; img <= 25; ++img) {
    gt->images.push_back({img * 3, "img" + std::to_string(img) + ".jpg", 640, 480});
    const int n = img % 7 == 0 ? 0 : static_cast<int>(u(rng) * 13);
    for (int k = 0; k < n; ++k) {
      const int64_t cat = std::array<int64_t, 3>{1, 2, 5}[static_cast<size_t>(u(rng) * 3)];
      const double scale = std::pow(10.0, 0.6 + 1.7 * u(rng));  // 4 .. 200 px
      const double w = scale * (0.5 + u(rng)), h = scale * (0.5 + u(rng));
      const double x = u(rng) * (640 - w), y = u(rng) * (480 - h);
      const bool crowd = u(rng) < 0.1;
      // area as a segmentation would give it: a bit below w·h, so ranges use the file's area.
      gt->annotations.push_back({ann_id++, img * 3, cat, x, y, w, h, w * h * (0.7 + 0.3 * u(rng)), crowd});
      if (u(rng) < 0.15) continue;  // missed
      const int copies = u(rng) < 0.1 ? 2 : 1;
      for (int c = 0; c < copies; ++c) {
        const double j = 0.25 * u(rng);
        double score = std::round(u(rng) * 20) / 20;  // ties
        res->push_back({img * 3, u(rng) < 0.05 ? int64_t{2} : cat, x + j * w * (u(rng) - 0.5), y + j * h * (u(rng) - 0.5),
                        w * (1 + j * (u(rng) - 0.5)), h * (1 + j * (u(rng) - 0.5)), score});
      }
    }
    const int fps = static_cast<int>(u(rng) * 4);
    for (int k = 0; k < fps; ++k)
      res->push_back({img * 3, std::array<int64_t, 3>{1, 2, 5}[static_cast<size_t>(u(rng) * 3)], u(rng) * 500,
                      u(rng) * 400, 5 + u(rng) * 120, 5 + u(rng) * 120, u(rng) * 0.6});
  }
  for (int k = 0; k < 130; ++k)  // more than maxDets on image 6 (gt may have none there)
    res->push_back({6, 1, u(rng) * 600, u(rng) * 440, 10 + u(rng) * 60, 10 + u(rng) * 60, u(rng)});
}

TEST(CocoEval, MatchesPycocotools) {
  if (!python_has({"pycocotools"})) GTEST_SKIP() << "pycocotools not importable by $VSS_PYTHON";
  const auto dir = make_temp_dir("coco_eval");
  for (uint64_t seed : {1, 2, 3, 4}) {
    coco::Instances gt;
    std::vector<coco::Result> res;
    make_case(seed, &gt, &res);
    coco::write_instances(dir / "gt.json", gt);
    coco::write_results(dir / "res.json", res);
    std::string out;
    ASSERT_EQ(run_python(kPycocotoolsOracle, {(dir / "gt.json").string(), (dir / "res.json").string()}, &out), 0)
        << out;
    const at::Tensor expected = from_text(out, {12});
    // Our numbers from the files as written (the same text the oracle read).
    const auto ours = detect::named_stats(
        detect::coco_evaluate(coco::read_instances(dir / "gt.json"), coco::read_results(dir / "res.json")).combined);
    for (int i = 0; i < 12; ++i)
      EXPECT_NEAR(ours[static_cast<size_t>(i)].second, expected[i].item<double>(), 1e-12)
          << ours[static_cast<size_t>(i)].first << " seed " << seed;
  }
  remove_tree(dir);
}

TEST(CocoFiles, BadFilesNameTheKey) {
  const auto dir = make_temp_dir("coco_files");
  auto write = [&](const std::string& text) {
    std::ofstream(dir / "x.json") << text;
    return dir / "x.json";
  };
  EXPECT_NE(error_of([&] { coco::read_instances(write(R"({"images": [{"id": 1}], "annotations": [{"id": 1,
      "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]}]})")); })
                .find("annotations[0].bbox: expected [x, y, w, h]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { coco::read_instances(write(R"({"images": [{"id": 1}], "annotations": [{"id": 1,
      "image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4]}]})")); })
                .find("annotations[0].image_id: image 2 is not in images"),
            std::string::npos);
  EXPECT_NE(error_of([&] { coco::read_results(write(R"([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}])")); })
                .find("[0]: missing key 'score'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { coco::read_results(write("[{")); }).find("not valid JSON"), std::string::npos);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
