// Sliding-window inference: the window grid of mmseg's slide_inference (hand-computed from its
// formula, conventions.md §3.3) and the averaging of overlapping windows.
#include "heads/slide_inference.h"

#include "core/error.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

std::vector<std::pair<int64_t, int64_t>> rows(const std::vector<SlideWindow>& ws) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& w : ws)
    if (w.left == 0) out.emplace_back(w.top, w.height);
  return out;
}

TEST(SlideInference, WindowGridAsMmseg) {
  // H = 10, crop 4, stride 3: grids = (10 − 4 + 2) // 3 + 1 = 3 -> tops 0, 3, 6 (6 + 4 = 10).
  EXPECT_EQ(rows(slide_windows(10, 4, 4, 3)), (std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {3, 4}, {6, 4}}));
  // H = 11: grids = (11 − 4 + 2) // 3 + 1 = 4 -> 0, 3, 6, then 9 + 4 > 11 so flush: 7.
  EXPECT_EQ(rows(slide_windows(11, 4, 4, 3)),
            (std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {3, 4}, {6, 4}, {7, 4}}));
  // Image smaller than the crop: one window of the image's size.
  const auto small = slide_windows(3, 5, 8, 6);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0].height, 3);
  EXPECT_EQ(small[0].width, 5);
  // 2-D grid, row-major: 3 x 4 windows for 10 x 11.
  const auto grid = slide_windows(10, 11, 4, 3);
  ASSERT_EQ(grid.size(), 12u);
  EXPECT_EQ(grid[1].left, 3);
  EXPECT_EQ(grid[3].left, 7);
  EXPECT_EQ(grid[4].top, 3);
  EXPECT_THROW(slide_windows(10, 10, 0, 3), Error);
}

TEST(SlideInference, AveragesOverlappingWindows) {
  // Windows that return the crop of a fixed field give back the field exactly; windows that
  // return ones plus the window's index give, per pixel, the mean index of its windows.
  const auto field = torch::randn({2, 3, 13, 17});
  const auto same = slide_inference(13, 17, 6, 4, [&](const SlideWindow& w) {
    return field.narrow(2, w.top, w.height).narrow(3, w.left, w.width);
  });
  EXPECT_LT(max_abs_diff(same, field), 1e-6);

  int calls = 0;
  const auto avg = slide_inference(5, 1, 3, 2, [&](const SlideWindow& w) {
    return torch::full({1, 1, w.height, w.width}, static_cast<float>(calls++));
  });
  // Rows windows: [0,3) index 0, [2,5) index 1: pixel 2 is covered by both -> 0.5.
  const auto expected = torch::tensor({0.f, 0.f, 0.5f, 1.f, 1.f}).view({1, 1, 5, 1});
  EXPECT_LT(max_abs_diff(avg, expected), 1e-7);
  EXPECT_THROW(slide_inference(5, 5, 3, 2, [](const SlideWindow&) { return torch::zeros({1, 1, 2, 2}); }), Error);
}

}  // namespace
}  // namespace vss::test
