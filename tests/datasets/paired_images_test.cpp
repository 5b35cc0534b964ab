// Paired LR/HR reading in the BasicSR and SwinIR layouts, GT only (LR made by bicubic), and
// the same tree read through an image bank; errors name the file at fault.
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/degradations.h"
#include "datasets/image_bank.h"
#include "datasets/paired_images.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace fs = std::filesystem;

namespace vss::test {
namespace {

class PairedImagesTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss-paired-images-test");
    torch::manual_seed(0);
    // GT of odd sizes (GTmod x2 crops them), LR with SwinIR's '{}x2' names.
    gt_ = {{"baby", torch::randint(0, 256, {13, 10, 3}, torch::kByte)},
           {"bird", torch::randint(0, 256, {8, 9, 3}, torch::kByte)}};
    fs::create_directories(dir_ / "Set5" / "HR");
    fs::create_directories(dir_ / "Set5" / "LR_bicubic" / "X2");
    for (const auto& [name, img] : gt_) {
      write_image((dir_ / "Set5" / "HR" / (name + ".png")).string(), img);
      write_image((dir_ / "Set5" / "LR_bicubic" / "X2" / (name + "x2.png")).string(), bicubic_downsample(img, 2));
    }
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  PairedImagesOptions swinir() const {
    PairedImagesOptions o;
    o.gt = (dir_ / "Set5" / "HR").string();
    o.lq = (dir_ / "Set5" / "LR_bicubic" / "X2").string();
    o.filename_tmpl = "{}x2";
    o.scale = 2;
    return o;
  }
  fs::path dir_;
  std::vector<std::pair<std::string, at::Tensor>> gt_;
};

TEST_F(PairedImagesTest, FilenameTemplate) {
  EXPECT_EQ(apply_filename_tmpl("{}x4", "baby"), "babyx4");
  EXPECT_EQ(apply_filename_tmpl("{}", "0801"), "0801");
  EXPECT_EQ(apply_filename_tmpl("lr_{}_{}", "a"), "lr_a_a");
}

TEST_F(PairedImagesTest, SwinIrLayoutPairsByTemplateAndCropsGtMod) {
  const auto pairs = read_paired_images(swinir());
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].name, "baby");
  EXPECT_EQ(pairs[1].name, "bird");
  EXPECT_EQ(pairs[0].gt.sizes().vec(), (std::vector<int64_t>{12, 10, 3}));  // 13x10 -> GTmod 12x10
  EXPECT_TRUE(torch::equal(pairs[0].gt, gt_[0].second.narrow(0, 0, 12)));
  EXPECT_EQ(pairs[0].lq.sizes().vec(), (std::vector<int64_t>{6, 5, 3}));
  EXPECT_EQ(pairs[1].lq.sizes().vec(), (std::vector<int64_t>{4, 4, 3}));
}

TEST_F(PairedImagesTest, GtOnlyMakesBicubicLrOrLeavesItToTheCaller) {
  PairedImagesOptions o;
  o.gt = (dir_ / "Set5" / "HR").string();
  o.scale = 2;
  o.bicubic_lq = true;
  const auto made = read_paired_images(o);
  const auto read = read_paired_images(swinir());
  ASSERT_EQ(made.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(torch::equal(made[i].lq, read[i].lq)) << i;
  o.scale = 1;
  o.bicubic_lq = false;
  const auto clean = read_paired_images(o);
  EXPECT_FALSE(clean[0].lq.defined());
  EXPECT_TRUE(torch::equal(clean[0].gt, gt_[0].second));
}

TEST_F(PairedImagesTest, BankHoldsTheSameTree) {
  const fs::path file = dir_ / "set5.safetensors";
  pack_image_bank(dir_ / "Set5", file);
  PairedImagesOptions o;
  o.bank = std::make_shared<ImageBank>(file);
  o.gt = "HR";
  o.lq = "LR_bicubic/X2";
  o.filename_tmpl = "{}x2";
  o.scale = 2;
  const auto from_bank = read_paired_images(o);
  const auto from_disk = read_paired_images(swinir());
  ASSERT_EQ(from_bank.size(), from_disk.size());
  for (size_t i = 0; i < from_bank.size(); ++i) {
    EXPECT_EQ(from_bank[i].name, from_disk[i].name);
    EXPECT_TRUE(torch::equal(from_bank[i].gt, from_disk[i].gt));
    EXPECT_TRUE(torch::equal(from_bank[i].lq, from_disk[i].lq));
  }
  o.gt = "nothing";
  EXPECT_THROW(read_paired_images(o), Error);
}

TEST_F(PairedImagesTest, ErrorsNameTheFile) {
  auto expect_error = [](const PairedImagesOptions& o, const std::string& needle) {
    try {
      read_paired_images(o);
      ADD_FAILURE() << "no error, expected one naming " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  PairedImagesOptions o = swinir();
  o.filename_tmpl = "{}";  // BasicSR's default: names differ here
  expect_error(o, "baby");
  o = swinir();
  o.scale = 4;  // LR files are x2
  expect_error(o, "babyx2.png");
  write_image((dir_ / "Set5" / "LR_bicubic" / "X2" / "birdx2.png").string(), torch::zeros({3, 4, 3}, torch::kByte));
  expect_error(swinir(), "birdx2.png");
  o = swinir();
  o.gt = (dir_ / "none").string();
  expect_error(o, "none");
  fs::create_directories(dir_ / "empty");
  o.gt = (dir_ / "empty").string();
  expect_error(o, "empty");
}

}  // namespace
}  // namespace vss::test
