// Generated shapes: reproducible per (seed, index), balanced labels, two colours plus noise.
#include "core/error.h"
#include "datasets/synthetic_shapes.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

TEST(SyntheticShapes, SamplesAreReproducibleAndSeedDependent) {
  vss::SyntheticShapesOptions o;
  o.size = 20;
  o.seed = 3;
  const vss::SyntheticShapes a(o), b(o);
  for (int64_t i : {0, 7, 19}) EXPECT_TRUE(torch::equal(a.image(i), b.image(i))) << i;
  EXPECT_FALSE(torch::equal(a.image(0), a.image(4)));  // same class, other colours / position
  o.seed = 4;
  EXPECT_FALSE(torch::equal(vss::SyntheticShapes(o).image(0), a.image(0)));
  EXPECT_EQ(a.image(5).sizes(), (std::vector<int64_t>{3, 32, 32}));
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(a.label(i), i % 4);
}

TEST(SyntheticShapes, NoiselessImagesHoldTwoColoursAndTheShapeCoversPartOfThem) {
  vss::SyntheticShapesOptions o;
  o.size = 12;
  o.noise = 0.0;
  o.num_classes = 6;
  const vss::SyntheticShapes set(o);
  for (int64_t i = 0; i < 12; ++i) {
    const at::Tensor img = set.image(i);
    const at::Tensor pixels = img.reshape({3, -1}).t();  // [H*W, 3]
    const auto unique = std::get<0>(torch::unique_dim(pixels, 0));
    EXPECT_EQ(unique.size(0), 2) << "sample " << i;
    // The shape (the colour of the centre of mass of neither) covers between 2 % and 60 % of pixels.
    const at::Tensor is_first = (pixels == unique[0]).all(1);
    const double fraction = is_first.to(torch::kDouble).mean().item<double>();
    const double shape_fraction = std::min(fraction, 1 - fraction);
    EXPECT_GT(shape_fraction, 0.02) << "sample " << i;
    EXPECT_LT(shape_fraction, 0.6) << "sample " << i;
  }
}

TEST(SyntheticShapes, BadOptionsAndIndexAreErrors) {
  vss::SyntheticShapesOptions o;
  o.size = 0;
  EXPECT_THROW(vss::SyntheticShapes{o}, vss::Error);
  o.size = 4;
  o.num_classes = 9;
  EXPECT_THROW(vss::SyntheticShapes{o}, vss::Error);
  o.num_classes = 4;
  EXPECT_THROW(vss::SyntheticShapes(o).image(4), vss::Error);
}

}  // namespace
