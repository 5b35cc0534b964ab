// SECOND data on disk: both layouts written by hand (the original colour labels with
// Bi-SRNet's table, ChangeMamba's index maps with and without GT_CD), pairing by name with a
// missing partner skipped, a list file picking and ordering names, a colour outside the
// table and an index above the class count named with file and pixel, sizes that differ,
// the colour rendering, the disagreement count, and the joint augmentation by construction.
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/second_folder.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <set>

// Named: the unity build puts several test files in one translation unit.
namespace vss::test::second_folder_tests {
namespace {

namespace fs = std::filesystem;

// Bi-SRNet's table, written out here as the spec gives it (specs/scd.md §4).
const std::vector<std::array<int, 3>> kTable{{255, 255, 255}, {0, 0, 255}, {128, 128, 128}, {0, 128, 0},
                                             {0, 255, 0},     {128, 0, 0}, {255, 0, 0}};

at::Tensor colour_of(const at::Tensor& indices) {
  auto out = torch::zeros({indices.size(0), indices.size(1), 3}, torch::kByte);
  for (int64_t i = 0; i < indices.size(0); ++i)
    for (int64_t j = 0; j < indices.size(1); ++j)
      for (int c = 0; c < 3; ++c) out[i][j][c] = kTable[indices[i][j].item<int64_t>()][c];
  return out;
}

at::Tensor image(int64_t H, int64_t W, int64_t salt) {
  return (torch::arange(H * W * 3).reshape({H, W, 3}) * 7 + salt).remainder(256).to(torch::kByte);
}

// Labels: class (i + j) % 7 where (i + 2j) % 3 == 0, else 0; date 2 shifts the class by one (never 0).
at::Tensor labels(int64_t H, int64_t W, int64_t date) {
  auto out = torch::zeros({H, W}, torch::kByte);
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j)
      if ((i + 2 * j) % 3 == 0) out[i][j] = (i + j + date - 1) % 6 + 1;
  return out;
}

void write_second(const fs::path& split, const std::string& name, int64_t H, int64_t W) {
  for (const char* sub : {"im1", "im2", "label1", "label2"}) fs::create_directories(split / sub);
  write_image((split / "im1" / (name + ".png")).string(), image(H, W, 1));
  write_image((split / "im2" / (name + ".png")).string(), image(H, W, 2));
  write_image((split / "label1" / (name + ".png")).string(), colour_of(labels(H, W, 1)));
  write_image((split / "label2" / (name + ".png")).string(), colour_of(labels(H, W, 2)));
}

void write_changemamba(const fs::path& split, const std::string& name, int64_t H, int64_t W, bool with_cd) {
  for (const char* sub : {"T1", "T2", "GT_T1", "GT_T2"}) fs::create_directories(split / sub);
  write_image((split / "T1" / (name + ".png")).string(), image(H, W, 1));
  write_image((split / "T2" / (name + ".png")).string(), image(H, W, 2));
  write_image((split / "GT_T1" / (name + ".png")).string(), labels(H, W, 1).unsqueeze(-1));
  write_image((split / "GT_T2" / (name + ".png")).string(), labels(H, W, 2).unsqueeze(-1));
  if (with_cd) {
    fs::create_directories(split / "GT_CD");
    write_image((split / "GT_CD" / (name + ".png")).string(), (labels(H, W, 1).ne(0) * 255).to(torch::kByte).unsqueeze(-1));
  }
}

class SecondFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_second_folder");
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  fs::path dir_;
};

TEST_F(SecondFolder, OriginalLayoutReadsColourLabelsThroughTheTable) {
  write_second(dir_ / "test", "b", 5, 7);
  write_second(dir_ / "test", "a", 6, 4);
  fs::remove(dir_ / "test/im2/b.png");
  const auto split = change::find_semantic_change_split(dir_ / "test");
  EXPECT_EQ(split.layout, "second");
  ASSERT_EQ(split.pairs.size(), 1u);
  ASSERT_EQ(split.skipped.size(), 1u);
  EXPECT_NE(split.skipped[0].find("b: only in im1, label1, label2 (no im2)"), std::string::npos) << split.skipped[0];
  const auto p = change::read_semantic_change_pair(split.pairs[0]);
  EXPECT_TRUE(torch::equal(p.a, image(6, 4, 1).permute({2, 0, 1})));
  EXPECT_TRUE(torch::equal(p.label1, labels(6, 4, 1)));
  EXPECT_TRUE(torch::equal(p.label2, labels(6, 4, 2)));
  EXPECT_TRUE(torch::equal(p.change, labels(6, 4, 1).ne(0).to(torch::kByte)));  // derived: no change map in this layout
  EXPECT_EQ(change::count_change_label_disagreements(p), 0);
  // The rendering is the table.
  EXPECT_TRUE(torch::equal(change::colour_semantic_label(labels(6, 4, 2)), colour_of(labels(6, 4, 2))));
}

TEST_F(SecondFolder, ChangeMambaLayoutWithAndWithoutGtCdAndAList) {
  write_changemamba(dir_ / "train", "x", 4, 6, /*with_cd=*/true);
  write_changemamba(dir_ / "train", "y", 3, 3, true);
  const auto with_cd = change::find_semantic_change_split(dir_ / "train");
  EXPECT_EQ(with_cd.layout, "changemamba");
  ASSERT_EQ(with_cd.pairs.size(), 2u);
  ASSERT_EQ(with_cd.pairs[0].paths.size(), 5u);  // + GT_CD
  const auto p = change::read_semantic_change_pair(with_cd.pairs[0]);
  EXPECT_TRUE(torch::equal(p.label1, labels(4, 6, 1)));
  EXPECT_TRUE(torch::equal(p.change, labels(4, 6, 1).ne(0).to(torch::kByte)));
  // A list picks and orders names (extensions optional); one missing from the folders is listed.
  std::ofstream(dir_ / "train_list.txt") << "y.png\n\n  x \nz\nx\n";
  const auto listed = change::find_semantic_change_split(dir_ / "train", dir_ / "train_list.txt");
  ASSERT_EQ(listed.pairs.size(), 2u);
  EXPECT_EQ(listed.pairs[0].name, "y");
  EXPECT_EQ(listed.pairs[1].name, "x");
  ASSERT_EQ(listed.skipped.size(), 1u);
  EXPECT_NE(listed.skipped[0].find("z: listed in"), std::string::npos);
  // Without GT_CD the change map is derived from GT_T1.
  remove_tree(dir_ / "train" / "GT_CD");
  const auto derived = change::find_semantic_change_split(dir_ / "train");
  ASSERT_EQ(derived.pairs[0].paths.size(), 4u);
  EXPECT_TRUE(torch::equal(change::read_semantic_change_pair(derived.pairs[0]).change, p.change));
}

TEST_F(SecondFolder, BadLabelsAreNamedWithFileAndPixel) {
  write_second(dir_ / "s", "p", 4, 5);
  auto colours = colour_of(labels(4, 5, 1));
  colours[2][3][0] = 7;  // (7, g, b): in no row of the table
  const std::string label1 = (dir_ / "s/label1/p.png").string();
  write_image(label1, colours);
  const auto split = change::find_semantic_change_split(dir_ / "s");
  const std::string expected_colour = "(7," + std::to_string(colours[2][3][1].item<int>()) + "," +
                                      std::to_string(colours[2][3][2].item<int>()) + ")";
  EXPECT_EQ(error_of([&] { change::read_semantic_change_pair(split.pairs[0]); }),
            label1 + ": colour " + expected_colour + " at row 2, column 3 is not in the SECOND colour table");

  write_changemamba(dir_ / "c", "q", 4, 5, false);
  auto indices = labels(4, 5, 2);
  indices[1][4] = 9;
  const std::string gt_t2 = (dir_ / "c/GT_T2/q.png").string();
  write_image(gt_t2, indices.unsqueeze(-1));
  EXPECT_EQ(error_of([&] { change::read_semantic_change_pair(change::find_semantic_change_split(dir_ / "c").pairs[0]); }),
            gt_t2 + ": class index 9 at row 1, column 4 (expected 0..6)");
  // Fewer classes than a label uses: named too.
  write_image(gt_t2, labels(4, 5, 2).unsqueeze(-1));
  EXPECT_NE(error_of([&] { change::read_semantic_label(gt_t2, 3); }).find("(expected 0..2)"), std::string::npos);

  // A label of another size than the dates, and dates of two sizes.
  write_image((dir_ / "c/GT_T1/q.png").string(), labels(4, 6, 1).unsqueeze(-1));
  EXPECT_NE(error_of([&] { change::read_semantic_change_pair(change::find_semantic_change_split(dir_ / "c").pairs[0]); })
                .find("pair sizes differ: " + (dir_ / "c/T1/q.png").string() + " is 4x5, " +
                      (dir_ / "c/GT_T1/q.png").string() + " is 4x6"),
            std::string::npos);
  write_image((dir_ / "c/T2/q.png").string(), image(5, 5, 2));
  EXPECT_NE(error_of([&] { change::read_semantic_change_pair(change::find_semantic_change_split(dir_ / "c").pairs[0]); })
                .find("pair sizes differ"),
            std::string::npos);
  // Neither layout.
  fs::create_directories(dir_ / "empty");
  EXPECT_NE(error_of([&] { change::find_semantic_change_split(dir_ / "empty"); }).find("holds neither label1/"),
            std::string::npos);
}

TEST_F(SecondFolder, DisagreementsBetweenTheChangeMapAndTheLabelsAreCounted) {
  change::SemanticChangePair p;
  p.change = torch::tensor({1, 1, 0, 0, 255}, torch::kByte).view({1, 5});
  p.label1 = torch::tensor({2, 0, 0, 3, 4}, torch::kByte).view({1, 5});
  p.label2 = torch::tensor({5, 4, 0, 0, 4}, torch::kByte).view({1, 5});
  // pixel 1: changed without a date-1 class; pixel 3: unchanged with one; pixel 4 is padding.
  EXPECT_EQ(change::count_change_label_disagreements(p), 2);
}

TEST(SemanticChangeAugment, OneDrawAppliedToBothDatesAndAllThreeLabels) {
  // Date A stores each pixel's row and column; labels are functions of them; date B = 255 − A.
  const int64_t H = 11, W = 13;
  change::SemanticChangePair p;
  p.a = torch::zeros({3, H, W}, torch::kByte);
  p.change = torch::zeros({H, W}, torch::kByte);
  p.label1 = torch::zeros({H, W}, torch::kByte);
  p.label2 = torch::zeros({H, W}, torch::kByte);
  for (int64_t r = 0; r < H; ++r)
    for (int64_t c = 0; c < W; ++c) {
      p.a[0][r][c] = r;
      p.a[1][r][c] = c;
      p.change[r][c] = (r + c) % 2;
      p.label1[r][c] = (r * 3 + c) % 7;
      p.label2[r][c] = (r + c * 5) % 7;
    }
  p.b = 255 - p.a;
  change::ChangeAugmentOptions o;
  o.crop = 8;
  o.hflip = o.vflip = o.rotate = o.swap = true;
  std::set<std::vector<int>> dihedral;
  std::set<bool> swaps;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    AugmentRng rng(seed);
    const auto q = change::augment_semantic_change_pair(p, o, rng);
    const bool swapped = q.a[2][0][0].item<int>() == 255;
    swaps.insert(swapped);
    const auto first = (swapped ? q.b : q.a).to(torch::kInt);
    ASSERT_TRUE(torch::equal((swapped ? q.a : q.b).to(torch::kInt), 255 - first));
    const auto l1 = swapped ? q.label2 : q.label1, l2 = swapped ? q.label1 : q.label2;
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t j = 0; j < 8; ++j) {
        const int r = first[0][i][j].item<int>(), c = first[1][i][j].item<int>();
        ASSERT_EQ(q.change[i][j].item<int>(), (r + c) % 2);
        ASSERT_EQ(l1[i][j].item<int>(), (r * 3 + c) % 7);
        ASSERT_EQ(l2[i][j].item<int>(), (r + c * 5) % 7);
      }
    const int r0 = first[0].min().item<int>(), c0 = first[1].min().item<int>();
    std::vector<int> corners;
    for (int64_t i : {0, 7})
      for (int64_t j : {0, 7}) corners.push_back((first[0][i][j].item<int>() - r0) * 10 + first[1][i][j].item<int>() - c0);
    dihedral.insert(corners);
  }
  EXPECT_EQ(dihedral.size(), 8u);
  EXPECT_EQ(swaps.size(), 2u);
  // Smaller images are padded: images with 0, the three labels with 255.
  change::ChangeAugmentOptions big;
  big.crop = 16;
  AugmentRng rng(0);
  const auto padded = change::augment_semantic_change_pair(p, big, rng);
  EXPECT_EQ(padded.label2.size(0), 16);
  EXPECT_EQ(padded.change[15][15].item<int>(), 255);
  EXPECT_EQ(padded.label1[15][0].item<int>(), 255);
  EXPECT_EQ(padded.a[0][15][15].item<int>(), 0);
}

}  // namespace
}  // namespace vss::test::second_folder_tests
