// Stored image <-> float tensor conversions: hand-computed values (x/255, x/65535, BasicSR's
// round-half-to-even quantisation), exact 16-bit round trips, and RGB -> grey against
// OpenCV's cvtColor in Python.
#include "core/error.h"
#include "datasets/image_tensor.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

namespace vss::test {
namespace {

TEST(ImageTensor, EightBitToFloatAndBack) {
  const at::Tensor img = torch::tensor({0, 1, 128, 255}, torch::kByte).view({2, 1, 2});
  const at::Tensor x = image_to_float(img);
  ASSERT_EQ(x.sizes().vec(), (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(x.scalar_type(), torch::kFloat);
  EXPECT_FLOAT_EQ(x[1][0][0].item<float>(), 1.0f / 255.0f);  // [H, W, C] -> [C, H, W]
  EXPECT_FLOAT_EQ(x[0][1][0].item<float>(), 128.0f / 255.0f);
  EXPECT_FLOAT_EQ(x[1][1][0].item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(float_to_image(x, torch::kByte), img));
}

TEST(ImageTensor, QuantisationClampsAndRoundsHalfToEven) {
  // 0.5/255 -> 0.5 -> 0; 1.5/255 -> 2; 2.5/255 -> 2 (numpy's round); out of range clamps.
  const at::Tensor x = torch::tensor({0.5f / 255, 1.5f / 255, 2.5f / 255, -0.3f, 1.7f, 0.6f / 255}).view({1, 2, 3});
  const at::Tensor q = float_to_image(x, torch::kByte);
  EXPECT_EQ(q.sizes().vec(), (std::vector<int64_t>{2, 3, 1}));
  const std::vector<int> want{0, 2, 2, 0, 255, 1};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(q.view(-1)[i].item<int>(), want[i]) << i;
}

TEST(ImageTensor, SixteenBitRoundTripIsExact) {
  const at::Tensor img = torch::randint(0, 65536, {5, 3, 3}, torch::kInt).to(torch::kUInt16);
  const at::Tensor x = image_to_float(img);
  EXPECT_NEAR(x[0][0][0].item<double>(), img[0][0][0].item<int>() / 65535.0, 1e-7);
  const at::Tensor back = float_to_image(x, torch::kUInt16);
  EXPECT_EQ(back.scalar_type(), torch::kUInt16);
  EXPECT_TRUE(torch::equal(back.to(torch::kInt), img.to(torch::kInt)));
}

TEST(ImageTensor, ChannelsGreyRgbAndAlpha) {
  const at::Tensor grey = torch::randint(0, 256, {4, 5, 1}, torch::kByte);
  const at::Tensor rgb = match_channels(grey, 3);
  ASSERT_EQ(rgb.sizes().vec(), (std::vector<int64_t>{4, 5, 3}));
  for (int c = 0; c < 3; ++c) EXPECT_TRUE(torch::equal(rgb.select(2, c), grey.select(2, 0)));
  EXPECT_TRUE(torch::equal(match_channels(grey.squeeze(2), 1), grey));
  const at::Tensor rgba = torch::randint(0, 256, {2, 2, 4}, torch::kByte);
  EXPECT_TRUE(torch::equal(drop_alpha(rgba), rgba.narrow(2, 0, 3)));
  EXPECT_TRUE(torch::equal(drop_alpha(grey), grey));
  EXPECT_THROW(match_channels(rgba, 3), Error);
  EXPECT_THROW(image_to_float(torch::zeros({2, 2, 3}, torch::kFloat)), Error);
}

TEST(ImageTensor, RgbToGreyMatchesOpenCv) {
  if (!python_has({"cv2", "numpy"})) GTEST_SKIP() << "python cv2 + numpy not available";
  torch::manual_seed(3);
  const at::Tensor rgb = torch::randint(0, 256, {9, 11, 3}, torch::kByte);
  std::string arg;
  for (int64_t i = 0; i < rgb.numel(); ++i) arg += std::to_string(rgb.view(-1)[i].item<int>()) + " ";
  std::string out;
  ASSERT_EQ(run_python("import sys, cv2, numpy as np\n"
                       "a = np.array(sys.argv[1].split(), np.uint8).reshape(9, 11, 3)\n"
                       "print(' '.join(str(v) for v in cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).ravel()))",
                       {arg}, &out),
            0)
      << out;
  const at::Tensor grey = match_channels(rgb, 1);
  std::istringstream s(out);
  for (int64_t i = 0; i < grey.numel(); ++i) {
    int v = -1;
    s >> v;
    ASSERT_EQ(grey.view(-1)[i].item<int>(), v) << "pixel " << i;
  }
}

}  // namespace
}  // namespace vss::test
