// Generated change pairs: a pure function of (seed, index); labels 0/1; with every distractor
// off the two dates are equal wherever nothing is labelled (but for the one-pixel anti-aliased
// rim of the changed footprints) and differ on the labelled pixels; each distractor on its own
// makes unlabelled pixels differ; no change -> empty label; odd and 1-pixel sizes; bad options.
#include "core/error.h"
#include "datasets/synthetic_change.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

using change::make_synthetic_change;
using change::SyntheticChangeOptions;

SyntheticChangeOptions no_distractors(int64_t size, uint64_t seed) {
  SyntheticChangeOptions o;
  o.height = o.width = size;
  o.seed = seed;
  o.illumination = o.misregistration = o.noise = o.seasonal = 0;
  o.shadows = o.vehicles = false;
  return o;
}

// Pixels (any channel) where the dates differ, [H, W] bool.
at::Tensor differs(const change::ChangePair& p) { return p.a.ne(p.b).any(0); }

// The label grown by one pixel (3x3 max).
at::Tensor dilated(const at::Tensor& label) {
  return torch::max_pool2d(label.to(torch::kFloat).unsqueeze(0).unsqueeze(0), 3, 1, 1).squeeze().gt(0);
}

TEST(SyntheticChange, PureFunctionOfSeedAndIndex) {
  SyntheticChangeOptions o;
  o.height = 48;
  o.width = 40;
  o.seed = 11;
  const auto later = make_synthetic_change(o, 5);
  const auto first = make_synthetic_change(o, 3);
  const auto again = make_synthetic_change(o, 5);  // after another pair: same result
  EXPECT_TRUE(torch::equal(later.a, again.a));
  EXPECT_TRUE(torch::equal(later.b, again.b));
  EXPECT_TRUE(torch::equal(later.label, again.label));
  EXPECT_FALSE(torch::equal(first.a, later.a));
  o.seed = 12;
  EXPECT_FALSE(torch::equal(make_synthetic_change(o, 5).a, later.a));
  EXPECT_EQ(later.a.sizes(), (std::vector<int64_t>{3, 48, 40}));
  EXPECT_EQ(later.a.scalar_type(), torch::kByte);
  EXPECT_EQ(later.label.sizes(), (std::vector<int64_t>{48, 40}));
  EXPECT_TRUE(later.label.le(1).all().item<bool>());
}

TEST(SyntheticChange, WithoutDistractorsOnlyTheLabelledPixelsChange) {
  int64_t labelled = 0, labelled_and_different = 0;
  for (int64_t i = 0; i < 20; ++i) {
    change::SyntheticChangeInfo info;
    const auto p = make_synthetic_change(no_distractors(96, 7), i, &info);
    const auto diff = differs(p);
    // Outside the label (grown by the anti-aliased rim), the dates are identical.
    EXPECT_FALSE(diff.logical_and(dilated(p.label).logical_not()).any().item<bool>()) << "pair " << i;
    labelled += p.label.sum().item<int64_t>();
    labelled_and_different += diff.logical_and(p.label.to(torch::kBool)).sum().item<int64_t>();
    EXPECT_EQ(info.shift_x, 0.0);
    if (info.built + info.demolished + info.rebuilt == 0) {
      EXPECT_EQ(p.label.sum().item<int64_t>(), 0);
    }
  }
  ASSERT_GT(labelled, 500);
  // A labelled pixel shows a roof on one date and ground (or another roof) on the other.
  EXPECT_GT(static_cast<double>(labelled_and_different) / static_cast<double>(labelled), 0.97);
}

TEST(SyntheticChange, EachDistractorChangesUnlabelledPixels) {
  struct Case {
    const char* name;
    void (*enable)(SyntheticChangeOptions&);
  };
  const Case cases[] = {
      {"illumination", [](SyntheticChangeOptions& o) { o.illumination = 1; }},
      {"misregistration", [](SyntheticChangeOptions& o) { o.misregistration = 1.5; }},
      {"noise", [](SyntheticChangeOptions& o) { o.noise = 3; }},
      {"seasonal", [](SyntheticChangeOptions& o) { o.seasonal = 1; }},
  };
  for (const auto& c : cases) {
    int64_t unlabelled = 0, unlabelled_and_different = 0;
    for (int64_t i = 0; i < 6; ++i) {
      SyntheticChangeOptions o = no_distractors(64, 3);
      c.enable(o);
      const auto p = make_synthetic_change(o, i);
      const auto outside = dilated(p.label).logical_not();
      unlabelled += outside.sum().item<int64_t>();
      unlabelled_and_different += differs(p).logical_and(outside).sum().item<int64_t>();
    }
    EXPECT_GT(static_cast<double>(unlabelled_and_different) / static_cast<double>(unlabelled), 0.05) << c.name;
  }
  // Misregistration stays within its bound and is sub-pixel in general.
  SyntheticChangeOptions o;
  o.height = o.width = 16;
  o.misregistration = 1.5;
  for (int64_t i = 0; i < 10; ++i) {
    change::SyntheticChangeInfo info;
    make_synthetic_change(o, i, &info);
    EXPECT_LE(std::abs(info.shift_x), 1.5);
    EXPECT_LE(std::abs(info.shift_y), 1.5);
    EXPECT_NE(info.shift_x, std::round(info.shift_x));
  }
}

TEST(SyntheticChange, ChangeStatisticsAndNoChange) {
  SyntheticChangeOptions o;
  o.height = o.width = 128;
  o.seed = 1;
  int64_t with_change = 0;
  double changed_fraction = 0;
  for (int64_t i = 0; i < 40; ++i) {
    const auto p = make_synthetic_change(o, i);
    const double f = p.label.to(torch::kFloat).mean().item<double>();
    with_change += f > 0;
    changed_fraction += f / 40;
  }
  EXPECT_GT(with_change, 25);  // most pairs hold some change, a few none
  EXPECT_LT(with_change, 40);
  EXPECT_GT(changed_fraction, 0.01);
  EXPECT_LT(changed_fraction, 0.2);
  o.change = 0;
  for (int64_t i = 0; i < 5; ++i) {
    change::SyntheticChangeInfo info;
    EXPECT_EQ(make_synthetic_change(o, i, &info).label.sum().item<int64_t>(), 0);
    EXPECT_EQ(info.built + info.demolished + info.rebuilt, 0);
    EXPECT_GT(info.unchanged, 0);
  }
}

TEST(SyntheticChange, OddAndTinySizesAndBadOptions) {
  SyntheticChangeOptions o;
  for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {1, 37}, {29, 3}, {53, 41}}) {
    o.height = h;
    o.width = w;
    const auto p = make_synthetic_change(o, 2);
    EXPECT_EQ(p.b.sizes(), (std::vector<int64_t>{3, h, w}));
    EXPECT_EQ(p.label.sizes(), (std::vector<int64_t>{h, w}));
  }
  o.height = 0;
  EXPECT_THROW(make_synthetic_change(o, 0), Error);
  o.height = 8;
  o.noise = -1;
  EXPECT_THROW(make_synthetic_change(o, 0), Error);
  o.noise = 0;
  EXPECT_THROW(make_synthetic_change(o, -1), Error);
}

}  // namespace
}  // namespace vss::test
