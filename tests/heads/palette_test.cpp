#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/seg/palette.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace fs = std::filesystem;

namespace {

class PaletteTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = vss::test::make_temp_dir("vss-palette-test"); }
  void TearDown() override { vss::remove_tree(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

using Rgb = std::array<uint8_t, 3>;

}  // namespace

// The published PASCAL VOC colours: background, aeroplane, bicycle, bird, ..., person (15), tvmonitor (20).
TEST_F(PaletteTest, default_is_the_pascal_voc_colour_map) {
  const auto p = vss::seg::default_palette(21);
  ASSERT_EQ(p.colours.size(), 21u);
  EXPECT_EQ(p.colours[0], (Rgb{0, 0, 0}));
  EXPECT_EQ(p.colours[1], (Rgb{128, 0, 0}));
  EXPECT_EQ(p.colours[2], (Rgb{0, 128, 0}));
  EXPECT_EQ(p.colours[3], (Rgb{128, 128, 0}));
  EXPECT_EQ(p.colours[15], (Rgb{192, 128, 128}));
  EXPECT_EQ(p.colours[20], (Rgb{0, 64, 128}));
}

TEST_F(PaletteTest, reads_yaml_metainfo_maps_and_text) {
  const auto plain = vss::seg::load_palette(write("a.yaml", "palette:\n- [120, 120, 120]\n- [180, 120, 120]\n"), 2);
  EXPECT_EQ(plain.colours[1], (Rgb{180, 120, 120}));
  EXPECT_TRUE(plain.classes.empty());
  const auto meta = vss::seg::load_palette(
      write("b.yaml", "classes: [road, sidewalk]\npalette: [[128, 64, 128], [244, 35, 232]]\n"), 2);
  EXPECT_EQ(meta.colours[0], (Rgb{128, 64, 128}));
  EXPECT_EQ(meta.classes, (std::vector<std::string>{"road", "sidewalk"}));
  const auto text = vss::seg::load_palette(write("c.txt", "# wall\n120 120 120\n[6, 230, 230]\n\n"), 2);
  EXPECT_EQ(text.colours[1], (Rgb{6, 230, 230}));
}

TEST_F(PaletteTest, too_few_colours_or_bad_values_name_the_file) {
  const std::string few = write("few.yaml", "palette: [[1, 2, 3]]\n");
  try {
    vss::seg::load_palette(few, 3);
    FAIL();
  } catch (const vss::Error& e) {
    EXPECT_NE(std::string(e.what()).find(few), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 colours but 3 classes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vss::seg::load_palette(write("big.yaml", "palette: [[1, 2, 300]]\n"), 1), vss::Error);
  try {
    vss::seg::load_palette(write("list.yaml", "# colours\n- [1, 2, 3]\n"), 1);
    FAIL();
  } catch (const vss::Error& e) {
    EXPECT_NE(std::string(e.what()).find("goes in a .txt file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vss::seg::load_palette(write("two.txt", "1 2\n"), 1), vss::Error);
  EXPECT_THROW(vss::seg::load_palette((dir_ / "missing.yaml").string(), 1), vss::Error);
}

// mmseg's visualizer: (image * (1 - alpha) + colour * alpha).astype(uint8), by hand.
TEST_F(PaletteTest, overlay_blends_and_truncates_like_mmseg) {
  vss::seg::Palette p;
  p.colours = {Rgb{0, 0, 0}, Rgb{128, 0, 0}};
  auto image = torch::tensor({100, 200, 51, 50, 100, 151}, torch::kByte).reshape({1, 2, 3});
  auto mask = torch::tensor({1, 255}, torch::kLong).reshape({1, 2});  // 255: no colour -> black
  const auto out = vss::seg::overlay(image, mask, p, 0.5);
  EXPECT_TRUE(torch::equal(out, torch::tensor({114, 100, 25, 25, 50, 75}, torch::kByte).reshape({1, 2, 3})));
  EXPECT_TRUE(torch::equal(vss::seg::colourize(mask, p), torch::tensor({128, 0, 0, 0, 0, 0}, torch::kByte).reshape({1, 2, 3})));
  EXPECT_THROW(vss::seg::overlay(image, torch::zeros({2, 2}, torch::kLong), p), vss::Error);
}
