// Joint change augmentation, checked by construction: date A stores each pixel's own row and
// column, B = 255 − A and the label is a function of (row, column), so after any crop, flip,
// rotation and swap the three stay aligned exactly when B' = 255 − A' (or A' = 255 − B' after a
// swap) and label' = f(A') at every pixel; the crop is a window of the original; all 8 dihedral
// images and both swaps occur; padding goes to the bottom / right with label 255.
#include "core/error.h"
#include "datasets/change_pair.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

namespace vss::test {
namespace {

using change::augment_change_pair;
using change::ChangeAugmentOptions;
using change::ChangePair;

int64_t label_of(int64_t row, int64_t col) { return (row * 3 + col * 5) % 7 < 3 ? 1 : 0; }

ChangePair coordinate_pair(int64_t H, int64_t W) {
  ChangePair p;
  p.a = torch::zeros({3, H, W}, torch::kByte);
  p.label = torch::zeros({H, W}, torch::kByte);
  for (int64_t r = 0; r < H; ++r)
    for (int64_t c = 0; c < W; ++c) {
      p.a[0][r][c] = r;
      p.a[1][r][c] = c;
      p.a[2][r][c] = 100;
      p.label[r][c] = label_of(r, c);
    }
  p.b = 255 - p.a;
  return p;
}

// Checks alignment of every unpadded pixel; returns whether the dates were swapped.
bool check_aligned(const ChangePair& out) {
  const bool swapped = out.a[2][0][0].item<int>() == 155;
  const at::Tensor first = swapped ? out.b : out.a, second = swapped ? out.a : out.b;
  auto f = first.accessor<uint8_t, 3>();
  auto s = second.accessor<uint8_t, 3>();
  auto l = out.label.accessor<uint8_t, 2>();
  for (int64_t i = 0; i < out.label.size(0); ++i)
    for (int64_t j = 0; j < out.label.size(1); ++j) {
      if (l[i][j] == 255) {  // padding
        EXPECT_EQ(f[2][i][j], 0);
        EXPECT_EQ(s[2][i][j], 0);
        continue;
      }
      EXPECT_EQ(f[2][i][j], 100);
      for (int c = 0; c < 3; ++c) EXPECT_EQ(s[c][i][j], 255 - f[c][i][j]) << i << "," << j;
      EXPECT_EQ(l[i][j], label_of(f[0][i][j], f[1][i][j])) << i << "," << j;
    }
  return swapped;
}

TEST(ChangeAugment, CropFlipRotateSwapAreJoint) {
  const auto pair = coordinate_pair(13, 17);
  ChangeAugmentOptions o;
  o.crop = 8;
  o.hflip = o.vflip = o.rotate = o.swap = true;
  std::set<std::vector<int>> corner_patterns;  // which original pixel ends up at each corner
  std::set<bool> swaps;
  std::set<std::pair<int, int>> origins;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    AugmentRng rng(seed);
    const auto out = augment_change_pair(pair, o, rng);
    ASSERT_EQ(out.a.sizes(), (std::vector<int64_t>{3, 8, 8}));
    swaps.insert(check_aligned(out));
    const auto a = out.a[2][0][0].item<int>() == 100 ? out.a : out.b;
    // A window of the original: rows and columns span exactly 8 consecutive values.
    const auto rows = a[0].to(torch::kInt), cols = a[1].to(torch::kInt);
    EXPECT_EQ(rows.max().item<int>() - rows.min().item<int>(), 7);
    EXPECT_EQ(cols.max().item<int>() - cols.min().item<int>(), 7);
    origins.insert({rows.min().item<int>(), cols.min().item<int>()});
    // The dihedral image: where the window's top-left original pixel went, and its neighbour.
    const int r0 = rows.min().item<int>(), c0 = cols.min().item<int>();
    std::vector<int> pattern;
    for (int64_t i : {0, 7})
      for (int64_t j : {0, 7}) pattern.push_back((rows[i][j].item<int>() - r0) * 10 + (cols[i][j].item<int>() - c0));
    pattern.push_back(rows[0][1].item<int>() - rows[0][0].item<int>());
    corner_patterns.insert(pattern);
    // Same seed, same sample (what makes a resumed run see the same batches).
    AugmentRng again(seed);
    EXPECT_TRUE(torch::equal(augment_change_pair(pair, o, again).b, out.b));
  }
  EXPECT_EQ(corner_patterns.size(), 8u);
  EXPECT_EQ(swaps.size(), 2u);
  EXPECT_GT(origins.size(), 20u);
}

TEST(ChangeAugment, SmallImagesArePaddedBottomRightAndOptionsOffChangeNothing) {
  const auto pair = coordinate_pair(5, 6);
  ChangeAugmentOptions o;
  o.crop = 8;
  o.rotate = true;
  int transposed = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    AugmentRng rng(seed);
    const auto out = augment_change_pair(pair, o, rng);
    check_aligned(out);
    const bool t = out.a[1][1][0].item<int>() == 1;  // column index runs down the rows
    transposed += t;
    const int64_t h = t ? 6 : 5, w = t ? 5 : 6;
    EXPECT_TRUE(out.label.narrow(0, h, 8 - h).eq(255).all().item<bool>());
    EXPECT_TRUE(out.label.narrow(1, w, 8 - w).eq(255).all().item<bool>());
    EXPECT_TRUE(out.label.narrow(0, 0, h).narrow(1, 0, w).le(1).all().item<bool>());
  }
  EXPECT_GT(transposed, 0);
  EXPECT_LT(transposed, 20);
  AugmentRng rng(1);
  const auto same = augment_change_pair(pair, {}, rng);
  EXPECT_TRUE(torch::equal(same.a, pair.a));
  EXPECT_TRUE(torch::equal(same.b, pair.b));
  EXPECT_TRUE(torch::equal(same.label, pair.label));
  ChangePair bad = pair;
  bad.label = torch::zeros({5, 5}, torch::kByte);
  EXPECT_THROW(augment_change_pair(bad, o, rng), Error);
}

}  // namespace
}  // namespace vss::test
