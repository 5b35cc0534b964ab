// Box outlines and discs, pixel by pixel on small canvases worked out by hand.
#include "core/error.h"
#include "core/image_draw.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

int64_t painted(const at::Tensor& img) { return img.select(2, 0).eq(200).sum().item<int64_t>(); }

TEST(ImageDraw, BoxOutlineIsThicknessPixelsInside) {
  at::Tensor img = torch::zeros({10, 12, 3}, torch::kUInt8);
  vss::draw_box(img, 2, 3, 6, 5, {200, 10, 20}, 1);  // columns 2..7, rows 3..7
  EXPECT_EQ(painted(img), 2 * 6 + 2 * 3);            // perimeter of a 6 x 5 box
  EXPECT_EQ(img[3][2][0].item<int>(), 200);
  EXPECT_EQ(img[7][7][1].item<int>(), 10);
  EXPECT_EQ(img[3][8][0].item<int>(), 0);  // right of the box
  EXPECT_EQ(img[5][4][0].item<int>(), 0);  // inside
  at::Tensor thick = torch::zeros({10, 12, 3}, torch::kUInt8);
  vss::draw_box(thick, 2, 3, 6, 5, {200, 0, 0}, 2);
  EXPECT_EQ(painted(thick), 6 * 5 - 2 * 1);  // only the 2 x 1 core stays unpainted
}

TEST(ImageDraw, ClippedAtTheBordersAndDiscs) {
  at::Tensor img = torch::zeros({4, 4, 3}, torch::kUInt8);
  vss::draw_box(img, -3, -3, 5, 5, {200, 0, 0}, 1);  // only its right and bottom edges are inside
  EXPECT_EQ(painted(img), 3);  // (0,1), (1,1), (1,0)
  at::Tensor disc = torch::zeros({9, 9, 3}, torch::kUInt8);
  vss::draw_disc(disc, 4.5, 4.5, 1.0, {200, 0, 0});  // pixel centres within 1 px of (4.5, 4.5)
  EXPECT_EQ(painted(disc), 5);                        // the centre pixel and its 4 neighbours
  at::Tensor bad = torch::zeros({4, 4}, torch::kUInt8);
  EXPECT_THROW(vss::draw_disc(bad, 1, 1, 1, {1, 2, 3}), vss::Error);
}

}  // namespace
