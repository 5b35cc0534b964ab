// Change detection data on disk: the LEVIR-CD and BIT_CD layouts written by hand, pairing by
// file name (extensions may differ), a missing partner skipped and listed, bad label values,
// size mismatches, grey / colour mixes (BT.601 luma by hand), 16-bit images, 1-pixel images
// and empty folders.
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/change_folder.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace vss::test {
namespace {

namespace fs = std::filesystem;
using change::find_change_split;
using change::read_change_mask;
using change::read_change_pair;
using change::read_dates;

// [H, W, 3] uint8 with distinct values per pixel and channel.
at::Tensor colour_image(int64_t H, int64_t W, int64_t salt) {
  return (torch::arange(H * W * 3).reshape({H, W, 3}) * 7 + salt).remainder(256).to(torch::kByte);
}

at::Tensor mask_image(const std::vector<int>& values, int64_t H, int64_t W) {
  return torch::tensor(values, torch::kInt).to(torch::kByte).reshape({H, W, 1});
}

void write_pair(const fs::path& dir, const std::string& name, int64_t H, int64_t W, bool label = true) {
  for (const char* sub : {"A", "B", "label"}) fs::create_directories(dir / sub);
  write_image((dir / "A" / (name + ".png")).string(), colour_image(H, W, 1));
  write_image((dir / "B" / (name + ".png")).string(), colour_image(H, W, 2));
  if (label) {
    std::vector<int> v(static_cast<size_t>(H * W), 0);
    v[0] = 255;
    write_image((dir / "label" / (name + ".png")).string(), mask_image(v, H, W));
  }
}

class ChangeFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_change_folder");
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  fs::path dir_;
};

TEST_F(ChangeFolder, LevirLayoutPairsByNameAndSkipsMissingPartners) {
  const fs::path train = dir_ / "train";
  write_pair(train, "p1", 4, 5);
  write_pair(train, "p2", 3, 3);
  write_pair(train, "unlabelled", 2, 2, /*label=*/false);
  write_image((train / "A" / "lonely.png").string(), colour_image(2, 2, 0));
  // A .jpg image pairs with a .png mask of the same stem.
  write_image((train / "A" / "p3.jpg").string(), colour_image(2, 2, 0));
  write_image((train / "B" / "p3.jpg").string(), colour_image(2, 2, 0));
  write_image((train / "label" / "p3.png").string(), mask_image({0, 0, 0, 255}, 2, 2));
  const auto split = find_change_split(dir_, "train");
  EXPECT_EQ(split.layout, "levir");
  ASSERT_EQ(split.pairs.size(), 3u);
  EXPECT_EQ(split.pairs[0].name, "p1");
  EXPECT_EQ(split.pairs[2].name, "p3");
  ASSERT_EQ(split.pairs[0].paths.size(), 3u);
  EXPECT_EQ(split.pairs[0].paths[2], (train / "label" / "p1.png").string());
  ASSERT_EQ(split.skipped.size(), 2u);
  EXPECT_EQ(split.skipped[0], "lonely: only in A (no B, label)");
  EXPECT_EQ(split.skipped[1], "unlabelled: only in A, B (no label)");

  const auto p = read_change_pair(split.pairs[0]);
  EXPECT_TRUE(torch::equal(p.a, colour_image(4, 5, 1).permute({2, 0, 1})));
  EXPECT_TRUE(torch::equal(p.b, colour_image(4, 5, 2).permute({2, 0, 1})));
  ASSERT_EQ(p.label.sizes(), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(p.label.sum().item<int64_t>(), 1);  // 255 -> 1 at (0, 0)
  EXPECT_EQ(p.label[0][0].item<int64_t>(), 1);
  // Without labels the unlabelled pair is complete too.
  EXPECT_EQ(find_change_split(dir_, "train", /*labels=*/false).pairs.size(), 4u);
}

TEST_F(ChangeFolder, BitListFilesNameTheSplit) {
  write_pair(dir_, "x", 2, 3);
  write_pair(dir_, "y", 2, 3);
  write_pair(dir_, "other_split", 2, 3);
  fs::create_directories(dir_ / "list");
  std::ofstream(dir_ / "list" / "train.txt") << "x.png\n  y \n\nmissing.png\nx.png\n";
  const auto split = find_change_split(dir_, "train");
  EXPECT_EQ(split.layout, "bit");
  ASSERT_EQ(split.pairs.size(), 2u);
  EXPECT_EQ(split.pairs[0].name, "x");
  EXPECT_EQ(split.pairs[1].name, "y");
  ASSERT_EQ(split.skipped.size(), 1u);
  EXPECT_NE(split.skipped[0].find("missing: listed in"), std::string::npos) << split.skipped[0];
  // Neither layout: the error names both places looked at.
  const auto e = error_of([&] { find_change_split(dir_, "val"); });
  EXPECT_NE(e.find((dir_ / "val" / "A").string()), std::string::npos) << e;
  EXPECT_NE(e.find((dir_ / "list" / "val.txt").string()), std::string::npos) << e;
}

TEST_F(ChangeFolder, BadLabelValueNamesFileValueAndPlace) {
  write_pair(dir_ / "test", "bad", 3, 4);
  std::vector<int> v(12, 0);
  v[1 * 4 + 2] = 128;
  const auto label = (dir_ / "test" / "label" / "bad.png").string();
  write_image(label, mask_image(v, 3, 4));
  const auto e = error_of([&] { read_change_mask(label); });
  EXPECT_NE(e.find(label), std::string::npos) << e;
  EXPECT_NE(e.find("128 at row 1, column 2"), std::string::npos) << e;
  // 0/1 masks are not LEVIR-CD masks either.
  write_image(label, mask_image({0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 3, 4));
  EXPECT_NE(error_of([&] { read_change_mask(label); }).find("label value 1 at row 0, column 1"), std::string::npos);
  // A colour mask with equal channels is fine; unequal channels are not.
  auto rgb = torch::zeros({2, 2, 3}, torch::kByte);
  rgb[1][1].fill_(255);
  write_image(label, rgb);
  EXPECT_EQ(read_change_mask(label).sum().item<int64_t>(), 1);
  rgb[0][1][2] = 255;
  write_image(label, rgb);
  EXPECT_NE(error_of([&] { read_change_mask(label); }).find("colour mask"), std::string::npos);
}

TEST_F(ChangeFolder, SizeMismatchNamesBothFiles) {
  const auto a = (dir_ / "a.png").string(), b = (dir_ / "b.png").string(), l = (dir_ / "l.png").string();
  write_image(a, colour_image(4, 5, 0));
  write_image(b, colour_image(5, 4, 0));
  auto e = error_of([&] { read_dates(a, b); });
  EXPECT_NE(e.find(a + " is 4x5"), std::string::npos) << e;
  EXPECT_NE(e.find(b + " is 5x4"), std::string::npos) << e;
  write_image(b, colour_image(4, 5, 0));
  write_image(l, mask_image(std::vector<int>(20, 0), 5, 4));
  e = error_of([&] { read_change_pair({"x", {a, b, l}}); });
  EXPECT_NE(e.find(a), std::string::npos) << e;
  EXPECT_NE(e.find(l + " is 5x4"), std::string::npos) << e;
}

TEST_F(ChangeFolder, GreyAndColourDatesAreBothMadeGrey) {
  const auto a = (dir_ / "a.png").string(), b = (dir_ / "b.png").string();
  write_image(a, torch::tensor({10, 200}, torch::kInt).to(torch::kByte).reshape({1, 2, 1}));
  // (R, G, B) = (255, 0, 0) -> 0.299·255 = 76.245 -> 76; (10, 20, 30) -> 2.99 + 11.74 + 3.42 = 18.15 -> 18.
  write_image(b, torch::tensor({255, 0, 0, 10, 20, 30}, torch::kInt).to(torch::kByte).reshape({1, 2, 3}));
  bool mixed = false;
  auto [ga, gb] = read_dates(a, b, &mixed);
  EXPECT_TRUE(mixed);
  ASSERT_EQ(ga.sizes(), (std::vector<int64_t>{3, 1, 2}));
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(ga[c][0][0].item<int>(), 10);
    EXPECT_EQ(ga[c][0][1].item<int>(), 200);
    EXPECT_EQ(gb[c][0][0].item<int>(), 76);
    EXPECT_EQ(gb[c][0][1].item<int>(), 18);
  }
  // Two grey dates: repeated, no mix reported; the order of the dates does not matter.
  std::tie(ga, gb) = read_dates(a, a, &mixed);
  EXPECT_FALSE(mixed);
  std::tie(ga, gb) = read_dates(b, a, &mixed);
  EXPECT_TRUE(mixed);
  EXPECT_EQ(ga[1][0][0].item<int>(), 76);
}

TEST_F(ChangeFolder, SixteenBitAndOnePixelImages) {
  const auto a = (dir_ / "a.png").string(), b = (dir_ / "b.png").string();
  // round(v / 257): 65535 -> 255, 25700 -> 100, 128 -> 0 (0.498), 129 -> 1 (0.502).
  write_image(a, torch::tensor({65535, 25700, 128, 129}, torch::kInt).to(torch::kUInt16).reshape({1, 4, 1}));
  write_image(b, colour_image(1, 4, 0).narrow(-1, 0, 1).contiguous());
  auto [da, db] = read_dates(a, b);
  EXPECT_EQ(da[0][0][0].item<int>(), 255);
  EXPECT_EQ(da[0][0][1].item<int>(), 100);
  EXPECT_EQ(da[0][0][2].item<int>(), 0);
  EXPECT_EQ(da[0][0][3].item<int>(), 1);
  write_pair(dir_ / "test", "px", 1, 1);
  const auto split = find_change_split(dir_, "test");
  ASSERT_EQ(split.pairs.size(), 1u);
  const auto p = read_change_pair(split.pairs[0]);
  EXPECT_EQ(p.a.sizes(), (std::vector<int64_t>{3, 1, 1}));
  EXPECT_EQ(p.label.item<int>(), 1);
}

TEST_F(ChangeFolder, EmptyFolderAndDuplicateStemsAreErrors) {
  for (const char* sub : {"A", "B", "label"}) fs::create_directories(dir_ / "train" / sub);
  EXPECT_NE(error_of([&] { find_change_split(dir_, "train"); }).find((dir_ / "train" / "A").string()), std::string::npos);
  write_pair(dir_ / "train", "x", 2, 2);
  write_image((dir_ / "train" / "A" / "x.jpg").string(), colour_image(2, 2, 0));
  const auto e = error_of([&] { find_change_split(dir_, "train"); });
  EXPECT_NE(e.find("two files named 'x'"), std::string::npos) << e;
  remove_tree(dir_ / "train" / "B");
  EXPECT_NE(error_of([&] { find_change_split(dir_, "train"); }).find("no such folder"), std::string::npos);
}

TEST_F(ChangeFolder, WrittenPairsReadBack) {
  change::ChangePair p;
  p.a = colour_image(3, 5, 4).permute({2, 0, 1}).contiguous();
  p.b = colour_image(3, 5, 9).permute({2, 0, 1}).contiguous();
  p.label = (torch::arange(15).reshape({3, 5}).remainder(3) == 0).to(torch::kByte);
  change::write_change_pair(dir_ / "test", "s", p);
  const auto split = find_change_split(dir_, "test");
  ASSERT_EQ(split.pairs.size(), 1u);
  const auto q = read_change_pair(split.pairs[0]);
  EXPECT_TRUE(torch::equal(q.a, p.a));
  EXPECT_TRUE(torch::equal(q.b, p.b));
  EXPECT_TRUE(torch::equal(q.label, p.label));
  EXPECT_EQ(read_image((dir_ / "test" / "label" / "s.png").string(), ImageMode::kUnchanged).max().item<int>(), 255);
  p.label[0][0] = 7;
  EXPECT_THROW(change::write_change_pair(dir_ / "test", "bad", p), Error);
}

}  // namespace
}  // namespace vss::test
