// Detection data: rendered MOT frames (deterministic, people drawn inside their gt boxes
// only), the MOT17 rules for which gt lines are objects, the frame
// reader over a written sequence, COCO images, and the augmentation pipeline (boxes follow
// the image through scale, crop and flip; a pure function of the seed).
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/coco_detection.h"
#include "datasets/coco_image_dataset.h"
#include "datasets/detection_pipeline.h"
#include "datasets/mot_frame_dataset.h"
#include "datasets/mot_render.h"
#include "datasets/rendered_mot_dataset.h"
#include "datasets/synthetic_mot.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

track::SyntheticMotSequence small_sequence(int64_t frames = 6) {
  track::SyntheticMotOptions o;
  o.name = "render-test";
  o.seed = 5;
  o.frames = frames;
  o.width = 160;
  o.height = 96;
  o.objects = 4;
  return track::make_synthetic_mot(o);
}

TEST(MotRender, DeterministicAndPeopleOnlyInsideTheirBoxes) {
  const auto seq = small_sequence();
  track::RenderOptions r;
  const at::Tensor a = track::render_frame(seq, 2, r), b = track::render_frame(seq, 2, r);
  ASSERT_EQ(a.sizes(), (at::IntArrayRef{96, 160, 3}));
  EXPECT_TRUE(torch::equal(a, b));
  // Without people (a sequence of no objects, same seed) the frame is the background:
  // people change pixels only inside their gt boxes (the noise is the same draw).
  track::SyntheticMotOptions empty_o;
  empty_o.name = "render-test";
  empty_o.seed = 5, empty_o.frames = 6, empty_o.width = 160, empty_o.height = 96, empty_o.objects = 0;
  auto empty = track::make_synthetic_mot(empty_o);
  const at::Tensor bg = track::render_frame(empty, 2, r);
  at::Tensor inside = torch::zeros({96, 160}, torch::kBool);
  int64_t boxes = 0;
  for (const auto& g : seq.gt)
    if (g.frame == 2) {
      ++boxes;
      const auto x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(g.x)));
      const auto y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(g.y)));
      const auto x1 = std::min<int64_t>(160, static_cast<int64_t>(std::ceil(g.x + g.w)));
      const auto y1 = std::min<int64_t>(96, static_cast<int64_t>(std::ceil(g.y + g.h)));
      if (x1 > x0 && y1 > y0) inside.narrow(0, y0, y1 - y0).narrow(1, x0, x1 - x0).fill_(true);
    }
  ASSERT_GT(boxes, 0);
  const at::Tensor changed = (a.to(torch::kInt) - bg.to(torch::kInt)).abs().amax(2) > 0;
  EXPECT_FALSE((changed & ~inside).any().item<bool>());
  EXPECT_GT((changed & inside).sum().item<int64_t>(), 50);  // the people are drawn
}

TEST(MotFrames, Mot17RulesForDetectionTargets) {
  track::Box b;
  b.w = b.h = 10;
  b.score = 1, b.cls = 1, b.visibility = 0.1;
  EXPECT_TRUE(is_detection_target(b, true, 0));
  EXPECT_FALSE(is_detection_target(b, true, 0.25));  // visibility below the minimum
  b.score = 0;
  EXPECT_FALSE(is_detection_target(b, true, 0));     // consider flag 0
  b.score = 1, b.cls = 7;
  EXPECT_FALSE(is_detection_target(b, true, 0));     // static person: a distractor
  EXPECT_TRUE(is_detection_target(b, false, 0.5));   // MOT15: no class or visibility column
}

TEST(MotFrames, ReadsWrittenRenderedSequence) {
  const fs::path dir = make_temp_dir("mot_frames");
  const auto seq = small_sequence(4);
  track::write_sequence(dir / "s1", seq);
  track::write_frames(dir / "s1", seq, {});
  // A distractor and an ignored line are added to the gt: they must not become targets.
  {
    std::ofstream gt(dir / "s1/gt/gt.txt", std::ios::app);
    gt << "1,99,5,5,20,40,1,7,1.0\n1,98,50,5,20,40,0,1,1.0\n";
  }
  MotFrameDataset set({dir / "s1"}, {});
  ASSERT_EQ(set.size(), 4);
  const DetSample s = set.sample(0);
  EXPECT_EQ(s.image.sizes(), (at::IntArrayRef{96, 160, 3}));
  int64_t expected = 0;
  for (const auto& g : seq.gt) expected += g.frame == 1;
  EXPECT_EQ(s.boxes.size(0), expected);
  EXPECT_EQ(s.name, "render-test:1");
  // A missing frame is named.
  fs::remove(dir / "s1/img1/000003.jpg");
  EXPECT_NE(error_of([&] { MotFrameDataset({dir / "s1"}, {}); }).find("000003.jpg: missing frame 3"), std::string::npos);
  remove_tree(dir);
}

// .ppm frames (seqinfo imExt .ppm), which builds without OpenCV write and read: lossless, so
// the dataset's images are exactly the rendered ones. A format the build cannot write is an
// error before any frame is written.
TEST(MotFrames, PpmFramesReadBackExactlyInEveryBuild) {
  const fs::path dir = make_temp_dir("mot_frames_ppm");
  auto seq = small_sequence(3);
  seq.info.im_ext = ".ppm";
  track::write_sequence(dir / "s1", seq);
  track::write_frames(dir / "s1", seq, {});
  EXPECT_TRUE(fs::exists(dir / "s1/img1/000003.ppm"));
  EXPECT_EQ(track::open_sequence(dir / "s1").frame_paths().back(), dir / "s1/img1/000003.ppm");
  MotFrameDataset set({dir / "s1"}, {});
  ASSERT_EQ(set.size(), 3);
  EXPECT_TRUE(torch::equal(set.sample(1).image, track::render_frame(seq, 2, {})));
  seq.info.im_ext = ".gif";
  EXPECT_NE(error_of([&] { track::write_frames(dir / "s2", seq, {}); }).find("cannot write frames with imExt '.gif'"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "s2"));
  remove_tree(dir);
}

TEST(CocoImages, ClassesByCategoryIdAndCrowdLeftOut) {
  const fs::path dir = make_temp_dir("coco_images");
  write_image((dir / "a.png").string(), torch::zeros({20, 30, 3}, torch::kUInt8));
  coco::Instances in;
  in.images = {{4, "a.png", 30, 20}};
  in.categories = {{9, "car"}, {2, "person"}};
  in.annotations = {{1, 4, 9, 1, 2, 3, 4, 12, false}, {2, 4, 2, 5, 5, 5, 5, 25, false}, {3, 4, 2, 0, 0, 9, 9, 81, true}};
  coco::write_instances(dir / "i.json", in);
  CocoImageDataset set(dir / "i.json", dir);
  EXPECT_EQ(set.num_classes(), 2);
  const auto s = set.sample(0);
  ASSERT_EQ(s.boxes.size(0), 2);
  EXPECT_EQ(s.classes[0].item<int64_t>(), 1);  // category 9 is the second id in ascending order
  EXPECT_EQ(s.classes[1].item<int64_t>(), 0);
  EXPECT_FLOAT_EQ(s.boxes[0][2].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(s.boxes[0][3].item<float>(), 6.0f);
  remove_tree(dir);
}

TEST(DetPipeline, BoxesFollowTheImage) {
  // A white rectangle on black; after any augmentation the box must still frame the white pixels.
  at::Tensor image = torch::zeros({100, 160, 3}, torch::kUInt8);
  image.narrow(0, 20, 40).narrow(1, 30, 50).fill_(255);
  DetSample s{image, torch::tensor({{30.0f, 20.0f, 80.0f, 60.0f}}), torch::tensor({0L}), "rect"};
  DetPipeline p = DetPipeline::from_config(
      Config::parse("{input_size: [64, 96], scale_range: [0.8, 1.6], flip_prob: 0.5, min_box: 2}"));
  int kept = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    AugmentRng a(seed), b(seed);
    const DetSample o = p.train(s, a), o2 = p.train(s, b);
    EXPECT_TRUE(torch::equal(o.image, o2.image));  // a pure function of the seed
    EXPECT_LE(o.image.size(1), 64);
    EXPECT_LE(o.image.size(2), 96);
    if (o.boxes.size(0) == 0) continue;
    ++kept;
    const at::Tensor white = o.image[0] > 127;
    const auto ys = torch::nonzero(white.any(1)), xs = torch::nonzero(white.any(0));
    ASSERT_GT(ys.size(0), 0);
    EXPECT_NEAR(o.boxes[0][0].item<double>(), xs.min().item<double>(), 1.5) << seed;
    EXPECT_NEAR(o.boxes[0][2].item<double>(), xs.max().item<double>() + 1, 1.5) << seed;
    EXPECT_NEAR(o.boxes[0][1].item<double>(), ys.min().item<double>(), 1.5) << seed;
    EXPECT_NEAR(o.boxes[0][3].item<double>(), ys.max().item<double>() + 1, 1.5) << seed;
  }
  EXPECT_GT(kept, 10);
  EXPECT_NE(error_of([] { DetPipeline::from_config(Config::parse("{input_size: [60, 96]}")); }).find("input_size"),
            std::string::npos);
}

TEST(RenderedMot, SamplesAreFramesWithTheirGt) {
  RenderedMotOptions o;
  o.sequences = 2, o.frames = 3, o.width = 128, o.height = 96, o.objects = 3;
  RenderedMotDataset set(o);
  EXPECT_EQ(set.size(), 6);
  const auto s = set.sample(4);  // sequence 2, frame 2
  EXPECT_EQ(s.name, "render-0002:2");
  EXPECT_EQ(s.image.sizes(), (at::IntArrayRef{96, 128, 3}));
  EXPECT_EQ(s.boxes.size(1), 4);
  EXPECT_TRUE(torch::equal(set.sample(4).image, s.image));
}

}  // namespace
}  // namespace vss::test
