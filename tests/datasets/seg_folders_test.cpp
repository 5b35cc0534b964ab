// The on-disk segmentation layouts on small generated folders: mmseg / ADE20K
// (images/<split> + annotations/<split>, recursive, suffixes, reduce_zero_label) and
// images/ + masks/ (class ids or 0/255, mask suffix, split), and their errors: an image
// without a label, an empty or missing folder, label values out of range, size mismatches.
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/ade20k_folders.h"
#include "datasets/image_mask_folders.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

namespace fs = std::filesystem;

using vss::test::error_of;

class SegFolders : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!vss::all_image_formats_available()) GTEST_SKIP() << "no image codecs in this build";
    root_ = vss::test::make_temp_dir("vss-seg-folders");
  }
  void TearDown() override {
    if (!root_.empty()) vss::remove_tree(root_);
  }
  void image(const std::string& rel, int64_t H, int64_t W) {
    fs::create_directories((root_ / rel).parent_path());
    vss::write_image((root_ / rel).string(), torch::full({H, W, 3}, 128, torch::kByte));
  }
  void label(const std::string& rel, const at::Tensor& hw) {
    fs::create_directories((root_ / rel).parent_path());
    vss::write_image((root_ / rel).string(), hw.to(torch::kByte).unsqueeze(2).contiguous());
  }
  fs::path root_;
};

TEST_F(SegFolders, Ade20kLayoutPairsByRelativeNameAndReducesZeroLabel) {
  image("images/training/b.jpg", 4, 5);
  image("images/training/a.jpg", 3, 2);
  image("images/training/city/c.jpg", 2, 2);
  image("images/training/notes.png", 2, 2);  // not *.jpg: not an image of this split
  label("annotations/training/a.png", torch::tensor({{0, 1}, {150, 2}, {255, 0}}));
  label("annotations/training/b.png", torch::ones({4, 5}));
  label("annotations/training/city/c.png", torch::zeros({2, 2}));
  label("annotations/training/orphan.png", torch::zeros({2, 2}));  // no image: not read
  vss::Ade20kLayout layout;
  layout.root = root_;
  const auto set = vss::open_ade20k(layout);
  ASSERT_EQ(set.size(), 3);
  EXPECT_EQ(set.pairs()[0].name, "a");
  EXPECT_EQ(set.pairs()[1].name, "b");
  EXPECT_EQ(set.pairs()[2].name, "city/c");
  EXPECT_EQ(set.num_classes(), 150);
  const auto s = set.sample(0);
  EXPECT_EQ(s.image.sizes(), (std::vector<int64_t>{3, 3, 2}));
  EXPECT_TRUE(torch::equal(s.label, torch::tensor({{255, 0}, {149, 1}, {255, 255}}, torch::kLong)));
  EXPECT_EQ(s.name, "a");
  EXPECT_TRUE(torch::equal(set.sample(2).label, torch::full({2, 2}, 255, torch::kLong)));
}

TEST_F(SegFolders, Ade20kErrorsNameTheFileAtFault) {
  vss::Ade20kLayout layout;
  layout.root = root_;
  std::string e = error_of([&] { vss::open_ade20k(layout); });
  EXPECT_NE(e.find("images/training"), std::string::npos) << e;
  fs::create_directories(root_ / "images/training");
  fs::create_directories(root_ / "annotations/training");
  e = error_of([&] { vss::open_ade20k(layout); });
  EXPECT_NE(e.find("holds no '*.jpg' images"), std::string::npos) << e;
  image("images/training/x.jpg", 3, 3);
  e = error_of([&] { vss::open_ade20k(layout); });
  EXPECT_NE(e.find("x.jpg: has no label map"), std::string::npos) << e;
  EXPECT_NE(e.find("annotations/training/x.png"), std::string::npos) << e;
  label("annotations/training/x.png", torch::full({3, 3}, 151));
  e = error_of([&] { vss::open_ade20k(layout).sample(0); });
  EXPECT_NE(e.find("x.png: label value 151 (150 after reduce_zero_label)"), std::string::npos) << e;
  label("annotations/training/x.png", torch::zeros({3, 4}));
  e = error_of([&] { vss::open_ade20k(layout).sample(0); });
  EXPECT_NE(e.find("x.png: label map is 3x4"), std::string::npos) << e;
  EXPECT_NE(e.find("x.jpg is 3x3"), std::string::npos) << e;
  // Other suffixes and folders (Cityscapes-style names), no reduction.
  layout.img_dir = "leftImg8bit/train";
  layout.ann_dir = "gtFine/train";
  layout.img_suffix = "_leftImg8bit.png";
  layout.seg_map_suffix = "_gtFine_labelTrainIds.png";
  layout.labels = {19, 255, false, false};
  image("leftImg8bit/train/aachen/aachen_000000_leftImg8bit.png", 2, 4);
  label("gtFine/train/aachen/aachen_000000_gtFine_labelTrainIds.png", torch::tensor({{0, 18, 255, 3}, {1, 1, 1, 1}}));
  const auto set = vss::open_ade20k(layout);
  ASSERT_EQ(set.size(), 1);
  EXPECT_EQ(set.pairs()[0].name, "aachen/aachen_000000");
  EXPECT_EQ(set.sample(0).label[0][1].item<int64_t>(), 18);
}

TEST_F(SegFolders, ImageMaskFoldersPairByNameWithBinaryMasks) {
  image("images/y.png", 2, 3);
  image("images/x.jpg", 2, 2);
  label("masks/x.png", torch::tensor({{0, 255}, {255, 0}}));
  label("masks/y.png", torch::tensor({{0, 0, 255}, {0, 0, 0}}));
  label("masks/z.png", torch::zeros({1, 1}));  // a mask without an image is left out
  vss::ImageMaskLayout layout;
  layout.root = root_;
  layout.labels.binary = true;
  const auto set = vss::open_image_mask_folders(layout);
  ASSERT_EQ(set.size(), 2);
  EXPECT_EQ(set.pairs()[0].name, "x");
  EXPECT_TRUE(torch::equal(set.sample(0).label, torch::tensor({{0, 1}, {1, 0}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(set.sample(1).label, torch::tensor({{0, 0, 1}, {0, 0, 0}}, torch::kLong)));
  // Without `binary`, 255 is the ignore index and any other value must be a class.
  layout.labels.binary = false;
  EXPECT_TRUE(torch::equal(vss::open_image_mask_folders(layout).sample(0).label,
                           torch::tensor({{0, 255}, {255, 0}}, torch::kLong)));
  label("masks/y.png", torch::tensor({{0, 0, 2}, {0, 0, 0}}));
  const std::string e = error_of([&] { vss::open_image_mask_folders(layout).sample(1); });
  EXPECT_NE(e.find("y.png: label value 2"), std::string::npos) << e;
}

TEST_F(SegFolders, ImageMaskFoldersWithSplitAndMaskSuffix) {
  image("images/train/ISIC_0000000.jpg", 3, 3);
  label("masks/train/ISIC_0000000_segmentation.png", torch::full({3, 3}, 255));
  vss::ImageMaskLayout layout;
  layout.root = root_;
  layout.split = "train";
  layout.mask_suffix = "_segmentation";
  layout.labels.binary = true;
  const auto set = vss::open_image_mask_folders(layout);
  ASSERT_EQ(set.size(), 1);
  EXPECT_TRUE(torch::equal(set.sample(0).label, torch::ones({3, 3}, torch::kLong)));
  layout.mask_suffix = "";
  const std::string e = error_of([&] { vss::open_image_mask_folders(layout); });
  EXPECT_NE(e.find("ISIC_0000000.jpg: has no mask 'ISIC_0000000.<png|...>'"), std::string::npos) << e;
}

TEST_F(SegFolders, ImageMaskFoldersErrors) {
  vss::ImageMaskLayout layout;
  layout.root = root_;
  std::string e = error_of([&] { vss::open_image_mask_folders(layout); });
  EXPECT_NE(e.find("no such folder"), std::string::npos) << e;
  fs::create_directories(root_ / "images");
  fs::create_directories(root_ / "masks");
  e = error_of([&] { vss::open_image_mask_folders(layout); });
  EXPECT_NE(e.find("holds no image files"), std::string::npos) << e;
  image("images/a.png", 2, 2);
  label("masks/a.png", torch::zeros({2, 2}));
  label("masks/a.jpg", torch::zeros({2, 2}));
  e = error_of([&] { vss::open_image_mask_folders(layout); });
  EXPECT_NE(e.find("two masks for image 'a'"), std::string::npos) << e;
  fs::remove(root_ / "masks/a.jpg");
  image("images/b.png", 2, 2);
  e = error_of([&] { vss::open_image_mask_folders(layout); });
  EXPECT_NE(e.find("b.png: has no mask"), std::string::npos) << e;
}

}  // namespace
