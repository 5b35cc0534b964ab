#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace fs = std::filesystem;

namespace {

class ImageIoTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!vss::all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = vss::test::make_temp_dir("vss-image-io-test");
  }
  void TearDown() override {
    if (!dir_.empty()) vss::remove_tree(dir_);
  }
  fs::path dir_;
};

}  // namespace

TEST_F(ImageIoTest, png_round_trips_rgb_rgba_grey_and_16_bit) {
  torch::manual_seed(0);
  const auto rgb = torch::randint(0, 256, {5, 7, 3}, torch::kByte);
  const auto rgba = torch::randint(0, 256, {4, 3, 4}, torch::kByte);
  const auto grey = torch::randint(0, 256, {6, 2, 1}, torch::kByte);
  const auto deep = torch::randint(0, 65536, {3, 5, 3}, torch::kInt32).to(torch::kUInt16);
  for (const auto& [name, img] : {std::pair{"rgb.png", rgb}, {"rgba.png", rgba}, {"grey.png", grey}, {"deep.png", deep}}) {
    const std::string path = (dir_ / name).string();
    vss::write_image(path, img);
    const auto back = vss::read_image(path, vss::ImageMode::kUnchanged);
    EXPECT_EQ(back.scalar_type(), img.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back.to(torch::kInt32), img.to(torch::kInt32))) << name;
  }
  // kRgb: grey is replicated, alpha dropped, 16-bit scaled to 8-bit.
  auto g3 = vss::read_image((dir_ / "grey.png").string(), vss::ImageMode::kRgb);
  EXPECT_TRUE(torch::equal(g3, grey.expand({6, 2, 3})));
  auto a3 = vss::read_image((dir_ / "rgba.png").string(), vss::ImageMode::kRgb);
  EXPECT_TRUE(torch::equal(a3, rgba.slice(2, 0, 3)));
  EXPECT_EQ(vss::read_image((dir_ / "deep.png").string()).scalar_type(), torch::kByte);
}

// Channel order checked by an independent decoder (Pillow, a scikit-image dependency).
TEST_F(ImageIoTest, channels_are_rgb_as_pillow_reads_them) {
  if (!vss::test::python_has({"PIL", "numpy"})) GTEST_SKIP() << "no Pillow";
  auto img = torch::zeros({2, 3, 3}, torch::kByte);
  img[0][0][0] = 255;  // red
  img[1][2][2] = 200;  // blue
  const std::string path = (dir_ / "rgb.png").string();
  vss::write_image(path, img);
  std::string out;
  ASSERT_EQ(vss::test::run_python(
                "import sys, numpy as np; from PIL import Image\n"
                "a = np.asarray(Image.open(sys.argv[1]).convert('RGB'))\n"
                "print(a[0,0].tolist(), a[1,2].tolist())",
                {path}, &out),
            0);
  EXPECT_EQ(out, "[255, 0, 0] [0, 0, 200]\n");
}

TEST_F(ImageIoTest, jpeg_in_memory_is_lossy_but_close) {
  auto img = torch::full({16, 16, 3}, 128, torch::kByte);
  auto bytes = vss::encode_image(img, ".jpg", 90);
  auto back = vss::decode_image(bytes, vss::ImageMode::kRgb, "mem.jpg");
  EXPECT_LE(vss::test::max_abs_diff(back, img), 2.0);
}

TEST_F(ImageIoTest, bad_input_gives_one_line_errors_naming_the_file) {
  const std::string missing = (dir_ / "missing.png").string();
  try {
    vss::read_image(missing);
    FAIL();
  } catch (const vss::Error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);
  }
  const std::string junk = (dir_ / "junk.png").string();
  std::ofstream(junk) << "not a png";
  EXPECT_THROW(vss::read_image(junk), vss::Error);
  EXPECT_THROW(vss::write_image((dir_ / "x.txt").string(), torch::zeros({2, 2, 3}, torch::kByte)), vss::Error);
  EXPECT_THROW(vss::write_image((dir_ / "x.png").string(), torch::zeros({2, 2, 3})), vss::Error);
  EXPECT_THROW(vss::write_image((dir_ / "x.png").string(), torch::zeros({2, 2, 2}, torch::kByte)), vss::Error);
  EXPECT_FALSE(fs::exists(dir_ / "x.png"));
  // A header claiming 100000 x 100000: OpenCV's assertion becomes a line naming the file and the limit.
  const std::string huge = (dir_ / "huge.png").string();
  std::ofstream(huge, std::ios::binary) << vss::test::png_claiming_size(100000, 100000);
  for (const auto mode : {vss::ImageMode::kRgb, vss::ImageMode::kUnchanged}) {
    const std::string what = vss::test::error_of([&] { vss::read_image(huge, mode); });
    EXPECT_EQ(what.rfind(huge + ": image too large", 0), 0u) << what;
    EXPECT_NE(what.find("1073741824 pixels"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(what.find("Assertion"), std::string::npos) << what;
  }
  EXPECT_THROW(vss::list_images(dir_.string() + "/none*.png"), vss::Error);
  fs::create_directory(dir_ / "empty");
  EXPECT_THROW(vss::list_images((dir_ / "empty").string()), vss::Error);
}

TEST_F(ImageIoTest, lists_folders_and_globs_sorted) {
  for (const char* n : {"b.png", "a.jpg", "c.txt"}) std::ofstream((dir_ / n).string()) << "x";
  const auto all = vss::list_images(dir_.string());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(fs::path(all[0]).filename(), "a.jpg");
  EXPECT_EQ(vss::list_images(dir_.string() + "/*.png").size(), 1u);
  EXPECT_EQ(vss::list_images((dir_ / "c.txt").string()).size(), 1u);
}
