// Generated MOT sequences: reproducible from their options, well-formed (ids, boxes inside
// the image, visibilities, scores), a detector that misses and adds boxes, and files that the
// MOTChallenge readers accept and read back unchanged.
#include "core/error.h"
#include "core/remove_tree.h"
#include "datasets/synthetic_mot.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace vss::test {
namespace {

TEST(SyntheticMot, ReproducibleAndWellFormed) {
  track::SyntheticMotOptions o;
  o.frames = 120;
  o.objects = 8;
  const auto a = track::make_synthetic_mot(o), b = track::make_synthetic_mot(o);
  ASSERT_EQ(a.gt.size(), b.gt.size());
  ASSERT_EQ(a.det.size(), b.det.size());
  for (size_t i = 0; i < a.det.size(); ++i) EXPECT_EQ(a.det[i].x, b.det[i].x);
  o.seed = 2;
  EXPECT_NE(track::make_synthetic_mot(o).gt[0].x, a.gt[0].x);

  std::set<int64_t> ids;
  std::set<std::pair<int64_t, int64_t>> frame_ids;
  for (const auto& g : a.gt) {
    ids.insert(g.id);
    EXPECT_TRUE(frame_ids.emplace(g.frame, g.id).second);
    EXPECT_GE(g.x, 0);
    EXPECT_GE(g.y, 0);
    EXPECT_LE(g.x + g.w, 1280 + 1e-9);
    EXPECT_LE(g.y + g.h, 720 + 1e-9);
    EXPECT_GE(g.visibility, 0);
    EXPECT_LE(g.visibility, 1);
    EXPECT_EQ(g.cls, 1);
  }
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(*ids.begin(), 1);
  int64_t low = 0, occluded = 0;
  for (const auto& d : a.det) {
    EXPECT_GT(d.w, 0);
    EXPECT_GT(d.h, 0);
    EXPECT_GT(d.score, 0);
    EXPECT_LT(d.score, 1);
    low += d.score < 0.6;
  }
  for (const auto& g : a.gt) occluded += g.visibility < 0.5;
  EXPECT_GT(low, 0);       // the second association has work
  EXPECT_GT(occluded, 0);  // crossings happen
  EXPECT_LT(a.det.size(), a.gt.size() + 120u);  // misses outweigh the few false positives
  EXPECT_GT(a.det.size(), a.gt.size() / 2);

  o.frames = 0;
  EXPECT_THROW(track::make_synthetic_mot(o), Error);
}

TEST(SyntheticMot, WrittenLayoutReadsBack) {
  track::SyntheticMotOptions o;
  o.name = "synth-0007";
  o.frames = 50;
  const auto seq = track::make_synthetic_mot(o);
  const auto dir = make_temp_dir("vss_synth_mot") / o.name;
  track::write_sequence(dir, seq);
  const auto s = track::open_sequence(dir);
  EXPECT_EQ(s.info.name, "synth-0007");
  EXPECT_EQ(s.info.seq_length, 50);
  EXPECT_EQ(s.info.im_width, 1280);
  EXPECT_EQ(s.info.im_height, 720);
  EXPECT_DOUBLE_EQ(s.info.frame_rate, 25);
  const auto gt = track::read_boxes(s.gt_path(), track::FileKind::GroundTruth, 50);
  const auto det = track::read_boxes(s.det_path(), track::FileKind::Detections, 50);
  EXPECT_TRUE(gt.has_class);
  ASSERT_EQ(gt.boxes.size(), seq.gt.size());
  ASSERT_EQ(det.boxes.size(), seq.det.size());
  EXPECT_NEAR(gt.boxes[3].x, seq.gt[3].x, 0.005 + 1e-9);
  EXPECT_NEAR(det.boxes[3].score, seq.det[3].score, 5e-5 + 1e-12);
  remove_tree(dir.parent_path());
}

}  // namespace
}  // namespace vss::test
