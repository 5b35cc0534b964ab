// MOTChallenge file I/O on small files written here: seqinfo.ini, 9/10-column gt, det,
// results round trip in the exact 10-column format, seqmaps, folder layouts, bad input.
#include "core/error.h"
#include "core/remove_tree.h"
#include "datasets/mot_challenge.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace vss::test {
namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

class MotChallengeTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("vss_mot"); }
  void TearDown() override { remove_tree(dir_); }
  fs::path dir_;
};

constexpr char kSeqinfo[] =
    "[Sequence]\nname=v_00HRwkvvjtQ_c001\nimDir=img1\nframeRate=25\nseqLength=3\nimWidth=1280\n"
    "imHeight=720\nimExt=.jpg\n";

TEST_F(MotChallengeTest, ReadsSeqinfo) {
  write(dir_ / "seqinfo.ini", kSeqinfo);
  const auto info = track::read_seqinfo(dir_ / "seqinfo.ini");
  EXPECT_EQ(info.name, "v_00HRwkvvjtQ_c001");
  EXPECT_EQ(info.im_dir, "img1");
  EXPECT_EQ(info.im_ext, ".jpg");
  EXPECT_DOUBLE_EQ(info.frame_rate, 25);
  EXPECT_EQ(info.seq_length, 3);
  EXPECT_EQ(info.im_width, 1280);
  EXPECT_EQ(info.im_height, 720);
  write(dir_ / "bad.ini", "[Sequence]\nname=x\n");
  EXPECT_NE(error_of([&] { track::read_seqinfo(dir_ / "bad.ini"); }).find("no seqLength"), std::string::npos);
  write(dir_ / "bad2.ini", "[Sequence]\nseqLength=ten\n");
  EXPECT_NE(error_of([&] { track::read_seqinfo(dir_ / "bad2.ini"); }).find("bad2.ini:2: column seqLength"), std::string::npos);
}

TEST_F(MotChallengeTest, ReadsNineAndTenColumnGt) {
  // MOT17 gt (9 columns): consider flag, class, visibility. SportsMOT ids start at 0.
  write(dir_ / "gt17.txt", "1,0,10,20,30,40,1,1,0.75\n1,2,5.5,6,7,8,0,8,1\n\n2, 0, 11, 21, 30, 40, 1, 1, 1\n");
  const auto g = track::read_boxes(dir_ / "gt17.txt", track::FileKind::GroundTruth, 3);
  EXPECT_TRUE(g.has_class);
  ASSERT_EQ(g.boxes.size(), 3u);
  EXPECT_EQ(g.boxes[0].id, 0);
  EXPECT_DOUBLE_EQ(g.boxes[0].visibility, 0.75);
  EXPECT_EQ(g.boxes[1].cls, 8);
  EXPECT_DOUBLE_EQ(g.boxes[1].score, 0);
  EXPECT_DOUBLE_EQ(g.boxes[1].x, 5.5);
  EXPECT_EQ(g.boxes[2].frame, 2);
  EXPECT_DOUBLE_EQ(g.boxes[2].y, 21);
  // MOT15 gt (10 columns, x/y/z = -1): no class.
  write(dir_ / "gt15.txt", "1,1,399,182,121,229,1,-1,-1,-1\n");
  const auto g15 = track::read_boxes(dir_ / "gt15.txt", track::FileKind::GroundTruth);
  EXPECT_FALSE(g15.has_class);
  EXPECT_EQ(g15.boxes[0].cls, -1);
  // Whitespace-separated and empty files.
  write(dir_ / "ws.txt", "1 1 1 2 3 4 0.9 -1 -1 -1\n");
  EXPECT_DOUBLE_EQ(track::read_boxes(dir_ / "ws.txt", track::FileKind::Results).boxes[0].score, 0.9);
  write(dir_ / "empty.txt", "");
  EXPECT_TRUE(track::read_boxes(dir_ / "empty.txt", track::FileKind::Results).boxes.empty());
}

TEST_F(MotChallengeTest, BadLinesNameFileLineAndColumn) {
  const auto kind = track::FileKind::Results;
  write(dir_ / "a.txt", "1,1,1,2,3,4,0.9,-1,-1,-1\n1,2,1,2,abc,4,0.9,-1,-1,-1\n");
  const std::string e1 = error_of([&] { track::read_boxes(dir_ / "a.txt", kind); });
  EXPECT_NE(e1.find("a.txt:2: column 4 (bb_width): expected a number, got 'abc'"), std::string::npos) << e1;
  EXPECT_EQ(e1.find('\n'), std::string::npos);
  write(dir_ / "b.txt", "1.0,1,1,2,3,4,0.9,-1,-1,-1\n");  // TrackEval: invalid timestep
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "b.txt", kind); }).find("b.txt:1: column 0 (frame)"), std::string::npos);
  write(dir_ / "c.txt", "1,1,1,2,3,4,0.9,-1,-1,-1\n1,1,5,6,3,4,0.8,-1,-1,-1\n");
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "c.txt", kind); }).find("c.txt:2: column 1 (id): id 1 appears twice in frame 1"),
            std::string::npos);
  write(dir_ / "d.txt", "4,1,1,2,3,4,0.9,-1,-1,-1\n");
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "d.txt", kind, 3); }).find("d.txt:1: column 0 (frame): 4 is beyond seqLength 3"),
            std::string::npos);
  write(dir_ / "e.txt", "1,1,1,2\n");
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "e.txt", kind); }).find("e.txt:1: expected 7 to 10 columns, got 4"),
            std::string::npos);
  write(dir_ / "f.txt", "1,1,1,2,-3,4,0.9,-1,-1,-1\n");
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "f.txt", kind); }).find("f.txt:1: column 4 (bb_width): negative"),
            std::string::npos);
  write(dir_ / "g.txt", "1,1,1,2,3,4,nan,-1,-1,-1\n");
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "g.txt", kind); }).find("g.txt:1: column 6 (conf): not finite"),
            std::string::npos);
  write(dir_ / "h.txt", "1,1,1,2,3,4,0.9,2,-1,-1\n");  // TrackEval: only the pedestrian class
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "h.txt", kind); }).find("h.txt:1: column 7 (class)"), std::string::npos);
  EXPECT_NE(error_of([&] { track::read_boxes(dir_ / "missing.txt", kind); }).find("missing.txt: cannot open"),
            std::string::npos);
  // Detections may repeat id -1 in a frame.
  write(dir_ / "det.txt", "1,-1,1,2,3,4,0.9,-1,-1,-1\n1,-1,5,6,3,4,0.8,-1,-1,-1\n");
  EXPECT_EQ(track::read_boxes(dir_ / "det.txt", track::FileKind::Detections).boxes.size(), 2u);
}

TEST_F(MotChallengeTest, WritesTheTenColumnFormatSortedAndRounded) {
  std::vector<track::Box> boxes(3);
  boxes[0] = {2, 5, 10.04, 20.06, 30.15, 40.0, 0.876};
  boxes[1] = {1, 7, 1.0, 2.0, 3.0, 4.0, 0.5};
  boxes[2] = {1, 3, 100.25, 0.0, 12.34, 56.78, 1.0};
  track::write_results(dir_ / "out.txt", boxes);
  EXPECT_EQ(vss::test::read_bytes(dir_ / "out.txt"),
            "1,3,100.2,0.0,12.3,56.8,1.0,-1,-1,-1\n"
            "1,7,1.0,2.0,3.0,4.0,0.5,-1,-1,-1\n"
            "2,5,10.0,20.1,30.1,40.0,0.88,-1,-1,-1\n");
  const auto back = track::read_boxes(dir_ / "out.txt", track::FileKind::Results, 2);
  ASSERT_EQ(back.boxes.size(), 3u);
  EXPECT_DOUBLE_EQ(back.boxes[2].w, 30.1);
  boxes[1].id = 3;  // now two boxes with id 3 in frame 1
  EXPECT_NE(error_of([&] { track::write_results(dir_ / "dup.txt", boxes); }).find("twice in frame 1"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "dup.txt"));
}

TEST_F(MotChallengeTest, SeqmapsAndSequenceFolders) {
  write(dir_ / "val_seqmap.txt", "name\ndancetrack0004\n\ndancetrack0005\n");
  EXPECT_EQ(track::read_seqmap(dir_ / "val_seqmap.txt"), (std::vector<std::string>{"dancetrack0004", "dancetrack0005"}));
  write(dir_ / "empty_seqmap.txt", "name\n");
  EXPECT_NE(error_of([&] { track::read_seqmap(dir_ / "empty_seqmap.txt"); }).find("lists no sequences"), std::string::npos);

  // DanceTrack: 8-digit image names; MOT17 / SportsMOT: 6 digits.
  write(dir_ / "dancetrack0004" / "seqinfo.ini", "[Sequence]\nname=dancetrack0004\nimDir=img1\nseqLength=3\nimExt=.jpg\n");
  write(dir_ / "dancetrack0004" / "img1" / "00000001.jpg", "");
  const auto dance = track::open_sequence(dir_ / "dancetrack0004");
  EXPECT_EQ(dance.image_path(12), dir_ / "dancetrack0004" / "img1" / "00000012.jpg");
  EXPECT_EQ(dance.gt_path(), dir_ / "dancetrack0004" / "gt" / "gt.txt");
  write(dir_ / "MOT17-02" / "seqinfo.ini", kSeqinfo);
  const auto mot17 = track::open_sequence(dir_ / "MOT17-02");
  EXPECT_EQ(mot17.image_path(3), dir_ / "MOT17-02" / "img1" / "000003.jpg");
  EXPECT_EQ(mot17.det_path(), dir_ / "MOT17-02" / "det" / "det.txt");
  const std::string missing = error_of([&] { track::open_sequence(dir_ / "nothing"); });
  EXPECT_NE(missing.find("seqinfo.ini: missing"), std::string::npos) << missing;
}

}  // namespace
}  // namespace vss::test
