// Generated semantic change pairs: a pure function of (seed, index); labels consistent with
// SECOND's convention (a changed pixel has a class at both dates and they differ; unchanged
// pixels are 0 at both; classes 1..6); change present at the default setting, absent with
// regions 0; the dates differ where the land cover changed more than elsewhere; bad options.
#include "core/error.h"
#include "datasets/synthetic_semantic_change.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

// Named: the unity build puts several test files in one translation unit.
namespace vss::test::synthetic_scd_tests {
namespace {

TEST(SyntheticSemanticChange, DeterministicAndConsistentLabels) {
  change::SyntheticSemanticChangeOptions o;
  o.height = 64;
  o.width = 80;
  o.seed = 5;
  int64_t changed_total = 0;
  for (int64_t i = 0; i < 6; ++i) {
    const auto p = change::make_synthetic_semantic_change(o, i);
    const auto q = change::make_synthetic_semantic_change(o, i);
    EXPECT_TRUE(torch::equal(p.a, q.a) && torch::equal(p.b, q.b) && torch::equal(p.label1, q.label1));
    ASSERT_EQ(p.a.sizes().vec(), (std::vector<int64_t>{3, 64, 80}));
    ASSERT_EQ(p.label2.sizes().vec(), (std::vector<int64_t>{64, 80}));
    const auto changed = p.change.eq(1);
    EXPECT_TRUE(torch::equal(changed, p.label1.ne(0)));
    EXPECT_TRUE(torch::equal(changed, p.label2.ne(0)));
    EXPECT_TRUE(p.label1.masked_select(changed).ne(p.label2.masked_select(changed)).all().item<bool>());
    EXPECT_LE(p.label1.max().item<int>(), 6);
    EXPECT_EQ(change::count_change_label_disagreements(p), 0);
    changed_total += changed.sum().item<int64_t>();
    // Changed land cover changes the picture more than illumination and noise do.
    if (changed.any().item<bool>() && changed.logical_not().any().item<bool>()) {
      const auto diff = (p.a.to(torch::kFloat) - p.b.to(torch::kFloat)).abs().mean(0);
      EXPECT_GT(diff.masked_select(changed).mean().item<double>(),
                diff.masked_select(changed.logical_not()).mean().item<double>());
    }
  }
  EXPECT_GT(changed_total, 0);
  o.seed = 6;
  EXPECT_FALSE(torch::equal(change::make_synthetic_semantic_change(o, 0).a, change::make_synthetic_semantic_change({}, 0).a));
  o.regions = 0;
  EXPECT_EQ(change::make_synthetic_semantic_change(o, 0).change.sum().item<int64_t>(), 0);
}

TEST(SyntheticSemanticChange, BadOptionsAreNamed) {
  change::SyntheticSemanticChangeOptions o;
  o.height = 4;
  EXPECT_THROW(change::make_synthetic_semantic_change(o, 0), Error);
  o = {};
  o.noise = -1;
  try {
    change::make_synthetic_semantic_change(o, 0);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("noise"), std::string::npos);
  }
}

}  // namespace
}  // namespace vss::test::synthetic_scd_tests
