// Segmentation files: label value mapping (mmseg's reduce_zero_label, binary 0/255 masks) and
// range checks on hand-made cases, and the documented conversions of stored images
// (grey, grey+alpha, RGBA, 16-bit) and label maps (one channel, equal channels, colour).
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/seg_files.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using vss::LabelOptions;

at::Tensor row(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong).reshape({1, -1}); }

using vss::test::error_of;

TEST(SegLabels, ClassIdsAreKeptAndCheckedAgainstTheClassRange) {
  const LabelOptions o{3, 255, false, false};
  EXPECT_TRUE(torch::equal(vss::map_labels(row({0, 1, 2, 255}), o, "x.png"), row({0, 1, 2, 255})));
  const std::string e = error_of([&] { vss::map_labels(torch::tensor({{0, 1}, {2, 3}}, torch::kLong), o, "x.png"); });
  EXPECT_NE(e.find("x.png"), std::string::npos) << e;
  EXPECT_NE(e.find("label value 3"), std::string::npos) << e;
  EXPECT_NE(e.find("(x 1, y 1)"), std::string::npos) << e;
  EXPECT_NE(e.find("0..2"), std::string::npos) << e;
  // Another ignore index: 255 is then a bad value like any other.
  EXPECT_THROW(vss::map_labels(row({255}), LabelOptions{3, 7, false, false}, "x.png"), vss::Error);
  EXPECT_NO_THROW(vss::map_labels(row({7, 2}), LabelOptions{3, 7, false, false}, "x.png"));
}

// mmseg LoadAnnotations(reduce_zero_label=True): gt[gt == 0] = 255; gt = gt - 1; gt[gt == 254] = 255.
TEST(SegLabels, ReduceZeroLabelAsMmseg) {
  const LabelOptions o{150, 255, true, false};
  EXPECT_TRUE(torch::equal(vss::map_labels(row({0, 1, 2, 150, 255}), o, "a.png"), row({255, 0, 1, 149, 255})));
  const std::string e = error_of([&] { vss::map_labels(row({151}), o, "a.png"); });
  EXPECT_NE(e.find("label value 151 (150 after reduce_zero_label)"), std::string::npos) << e;
  // The ignore index need not be 255: "other" goes to it.
  EXPECT_TRUE(torch::equal(vss::map_labels(row({0, 5}), LabelOptions{150, 200, true, false}, "a.png"), row({200, 4})));
}

TEST(SegLabels, BinaryMasksThresholdAtHalfAndTakeZeroOneMasksAsIs) {
  const LabelOptions o{2, 255, false, true};
  EXPECT_TRUE(torch::equal(vss::map_labels(row({0, 255, 128, 127, 3}), o, "m.png"), row({0, 1, 1, 0, 0})));
  EXPECT_TRUE(torch::equal(vss::map_labels(row({0, 1, 1}), o, "m.png"), row({0, 1, 1})));
  EXPECT_TRUE(torch::equal(vss::map_labels(row({0, 65535, 40000, 30000}), o, "m.png", true), row({0, 1, 1, 0})));
  EXPECT_TRUE(torch::equal(vss::map_labels(row({0, 0}), o, "m.png"), row({0, 0})));
}

class SegFilesOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!vss::all_image_formats_available()) GTEST_SKIP() << "no image codecs in this build";
    dir_ = vss::test::make_temp_dir("vss-seg-files");
  }
  void TearDown() override {
    if (!dir_.empty()) vss::remove_tree(dir_);
  }
  std::string write(const std::string& name, const at::Tensor& hwc) {
    const std::string path = (dir_ / name).string();
    vss::write_image(path, hwc.contiguous());
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(SegFilesOnDisk, ImagesBecomeThreeChannelEightBitRgb) {
  torch::manual_seed(1);
  const at::Tensor rgb = torch::randint(0, 256, {5, 7, 3}, torch::kByte);
  const at::Tensor grey = torch::randint(0, 256, {5, 7, 1}, torch::kByte);
  const at::Tensor alpha = torch::randint(0, 256, {5, 7, 1}, torch::kByte);
  vss::SegImageInfo info;
  at::Tensor img = vss::read_seg_image(write("rgb.png", rgb), &info);
  EXPECT_TRUE(torch::equal(img, rgb.permute({2, 0, 1})));
  EXPECT_FALSE(info.had_alpha || info.was_grey || info.was_16bit);
  img = vss::read_seg_image(write("grey.png", grey), &info);
  EXPECT_TRUE(torch::equal(img, grey.permute({2, 0, 1}).expand({3, -1, -1})));
  EXPECT_TRUE(info.was_grey);
  img = vss::read_seg_image(write("rgba.png", torch::cat({rgb, alpha}, 2)), &info);
  EXPECT_TRUE(torch::equal(img, rgb.permute({2, 0, 1})));  // alpha dropped, not composited
  EXPECT_TRUE(info.had_alpha);
  const at::Tensor deep = torch::tensor({0, 257, 65535, 385}, torch::kInt32).reshape({1, 4, 1}).to(torch::kUInt16);
  img = vss::read_seg_image(write("deep.png", deep), &info);
  EXPECT_TRUE(info.was_16bit && info.was_grey);
  // round(v / 257): 385 / 257 = 1.498 -> 1
  EXPECT_TRUE(torch::equal(img[0].reshape(-1), torch::tensor({0, 1, 255, 1}, torch::kByte)));
  const at::Tensor one = vss::read_seg_image(write("one.png", torch::full({1, 1, 3}, 9, torch::kByte)));
  EXPECT_EQ(one.sizes(), (std::vector<int64_t>{3, 1, 1}));
}

TEST_F(SegFilesOnDisk, LabelMapsNeedOneValuePerPixel) {
  const at::Tensor ids = torch::tensor({0, 1, 2, 255, 1, 0}, torch::kByte).reshape({2, 3, 1});
  EXPECT_TRUE(torch::equal(vss::read_index_map(write("ids.png", ids)), ids.squeeze(2).to(torch::kLong)));
  // A grey map saved as RGB (equal channels) is the same map.
  EXPECT_TRUE(torch::equal(vss::read_index_map(write("ids_rgb.png", ids.expand({-1, -1, 3}))), ids.squeeze(2).to(torch::kLong)));
  at::Tensor colour = ids.expand({-1, -1, 3}).clone();
  colour[1][2][1] = 7;
  const std::string path = write("colour.png", colour);
  const std::string e = error_of([&] { vss::read_index_map(path); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("colour image"), std::string::npos) << e;
  bool deep = false;
  vss::read_index_map(write("deep.png", torch::full({2, 2, 1}, 300, torch::kInt32).to(torch::kUInt16)), &deep);
  EXPECT_TRUE(deep);
  EXPECT_THROW(vss::read_label_map((dir_ / "missing.png").string(), LabelOptions{3, 255, false, false}), vss::Error);
}

TEST(SegLabels, SizeMismatchNamesBothFiles) {
  const std::string e = error_of([] {
    vss::check_same_size("img/a.jpg", torch::zeros({3, 4, 6}), "ann/a.png", torch::zeros({4, 5}));
  });
  EXPECT_NE(e.find("ann/a.png"), std::string::npos) << e;
  EXPECT_NE(e.find("img/a.jpg"), std::string::npos) << e;
  EXPECT_NE(e.find("4x5"), std::string::npos) << e;
  EXPECT_NE(e.find("4x6"), std::string::npos) << e;
}

}  // namespace
