#include "core/error.h"
#include "datasets/augment.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

TEST(Augment, crop_boxes_stay_inside_and_pair_lr_with_hr) {
  vss::AugmentRng rng(3);
  const auto hr = torch::arange(12 * 16).reshape({1, 12, 16});
  // LR = every 2nd pixel of HR: a crop of LR and the scaled crop of HR must still correspond.
  const auto lr = hr.index({torch::indexing::Slice(), torch::indexing::Slice(0, 12, 2), torch::indexing::Slice(0, 16, 2)});
  for (int i = 0; i < 50; ++i) {
    const auto box = vss::random_crop_box(6, 8, 3, 4, rng);
    ASSERT_GE(box.top, 0);
    ASSERT_LE(box.top + box.height, 6);
    ASSERT_LE(box.left + box.width, 8);
    const auto l = vss::crop(lr, box), h = vss::crop(hr, box, 2);
    EXPECT_TRUE(torch::equal(l, h.index({torch::indexing::Slice(), torch::indexing::Slice(0, 6, 2),
                                         torch::indexing::Slice(0, 8, 2)})));
  }
  const auto whole = vss::random_crop_box(4, 5, 10, 10, rng);  // crop larger than the image
  EXPECT_EQ(whole.height, 4);
  EXPECT_EQ(whole.width, 5);
  EXPECT_THROW(vss::crop(hr, vss::CropBox{10, 0, 5, 5}), vss::Error);
}

TEST(Augment, flip_rotate_covers_the_eight_dihedral_images_and_keeps_alignment) {
  vss::AugmentRng rng(5);
  const auto img = torch::arange(6).reshape({2, 3}).to(torch::kFloat);
  std::set<std::vector<float>> seen;
  for (int i = 0; i < 200; ++i) {
    const auto f = vss::random_flip_rotate(true, true, true, rng);
    const auto a = vss::apply(img, f);
    const auto b = vss::apply(img.unsqueeze(0).expand({3, 2, 3}), f);  // an image with channels
    for (int c = 0; c < 3; ++c) EXPECT_TRUE(torch::equal(b[c], a));
    seen.insert(std::vector<float>(a.data_ptr<float>(), a.data_ptr<float>() + 6));
  }
  EXPECT_EQ(seen.size(), 8u);
  const auto t = vss::apply(img, vss::FlipRotate{false, false, true});
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t[2][1].item<float>(), 5.0f);
}

TEST(Augment, mask_crop_rejects_crops_dominated_by_one_class) {
  // Left 90% class 0, right 10% class 1: most 4-wide crops are one class only.
  auto mask = torch::zeros({8, 40}, torch::kLong);
  mask.index_put_({torch::indexing::Slice(), torch::indexing::Slice(36, 40)}, 1);
  vss::AugmentRng rng(1);
  int mixed = 0;
  for (int i = 0; i < 50; ++i) {
    const auto box = vss::random_crop_box_for_mask(mask, 8, 6, 0.9, 255, rng);
    const auto c = vss::crop(mask, box);
    mixed += (c.max().item<int64_t>() != c.min().item<int64_t>()) ? 1 : 0;
  }
  EXPECT_GT(mixed, 25);  // ~35 expected (1 - (31/35)^10); without the retry only 4 of 35 positions mix
}

TEST(Augment, resize_and_pad_follow_mmseg) {
  const auto mask = torch::tensor({{0, 1}, {2, 3}}, torch::kLong);
  EXPECT_TRUE(torch::equal(vss::resize_mask(mask, 4, 4),
                           torch::tensor({{0, 0, 1, 1}, {0, 0, 1, 1}, {2, 2, 3, 3}, {2, 2, 3, 3}}, torch::kLong)));
  // Bilinear with half-pixel centres (align_corners false): [0, 4] -> [0, 1, 3, 4].
  const auto img = torch::tensor({0.0f, 4.0f}).reshape({1, 1, 2});
  EXPECT_TRUE(torch::allclose(vss::resize_image(img, 1, 4), torch::tensor({0.0f, 1.0f, 3.0f, 4.0f}).reshape({1, 1, 4})));
  const auto padded = vss::pad_to(mask, 3, 3, 255);
  EXPECT_EQ(padded[2][2].item<int64_t>(), 255);
  EXPECT_EQ(padded[1][1].item<int64_t>(), 3);
}

TEST(Augment, photometric_distortion_stays_in_range_and_keeps_grey_grey) {
  torch::manual_seed(0);
  const auto img = torch::rand({3, 9, 7}) * 255;
  const auto grey = torch::full({3, 4, 4}, 100.0f);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    vss::AugmentRng rng(seed), rng2(seed);
    const auto out = vss::photometric_distortion(img, rng);
    EXPECT_EQ(out.sizes(), img.sizes());
    EXPECT_GE(out.min().item<float>(), 0.0f);
    EXPECT_LE(out.max().item<float>(), 255.0f);
    const auto g = vss::photometric_distortion(grey, rng2);  // hue / saturation cannot colour grey
    EXPECT_LT((g[0] - g[1]).abs().max().item<float>(), 1e-3f);
    EXPECT_LT((g[1] - g[2]).abs().max().item<float>(), 1e-3f);
  }
}

// The hue step against Python's colorsys (an independent HSV implementation): a seed whose
// draws give a hue shift of +18 OpenCV units (36 degrees) and nothing else.
TEST(Augment, hsv_matches_colorsys) {
  if (!vss::test::python_has({"colorsys"})) GTEST_SKIP();
  std::string out;
  ASSERT_EQ(vss::test::run_python(
                "import colorsys\n"
                "r,g,b = 200/255, 30/255, 90/255\n"
                "h,s,v = colorsys.rgb_to_hsv(r,g,b)\n"
                "h = (h + 36/360) % 1.0\n"
                "print(' '.join('%.6f' % (c*255) for c in colorsys.hsv_to_rgb(h,s,v)))",
                {}, &out),
            0);
  float r, g, b;
  ASSERT_EQ(std::sscanf(out.c_str(), "%f %f %f", &r, &g, &b), 3);
  bool found = false;
  const auto px = torch::tensor({200.0f, 30.0f, 90.0f}).reshape({3, 1, 1});
  for (uint64_t seed = 0; seed < 5000 && !found; ++seed) {
    vss::AugmentRng rng(seed);
    // Replays photometric_distortion's draw order.
    auto coin = [&] { return std::uniform_int_distribution<int64_t>(0, 1)(rng) == 1; };
    if (coin()) continue;                    // brightness
    const bool contrast_first = coin();
    if (contrast_first && coin()) continue;  // contrast
    if (coin()) continue;                    // saturation
    if (!coin()) continue;                   // hue
    if (std::uniform_int_distribution<int64_t>(-18, 18)(rng) != 18) continue;
    if (!contrast_first && coin()) continue;
    vss::AugmentRng replay(seed);
    const auto y = vss::photometric_distortion(px, replay);
    EXPECT_NEAR(y[0].item<float>(), r, 1e-3);
    EXPECT_NEAR(y[1].item<float>(), g, 1e-3);
    EXPECT_NEAR(y[2].item<float>(), b, 1e-3);
    found = true;
  }
  EXPECT_TRUE(found);
}
