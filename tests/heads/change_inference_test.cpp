// Change inference: whole-image logits are the network's on the normalised dates; tiles at
// least the image size are the whole image; adjacent tiles equal the network run on each tile
// alone, whether run one or several per pass; overlapping tiles average; the mask thresholds the softmax change probability.
#include "core/config.h"
#include "core/error.h"
#include "heads/change/change_inference.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

using namespace vss::change;

class ChangeInference : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    model_ = make_mamba_bcd(Config::load(source_dir() / "configs/change/mambabcd_test.yaml"));
    model_->eval();
    pre_ = torch::randint(0, 256, {2, 3, 16, 24}).to(torch::kByte);
    post_ = torch::randint(0, 256, {2, 3, 16, 24}).to(torch::kByte);
  }
  at::Tensor net(const at::Tensor& a, const at::Tensor& b) { return model_->forward(normalize_input(a), normalize_input(b)); }
  MambaBCD model_{nullptr};
  at::Tensor pre_, post_;
  torch::NoGradGuard no_grad_;
};

TEST_F(ChangeInference, WholeAndLargeTilesAreTheNetworkOutput) {
  const auto whole = change_logits(*model_, pre_, post_);
  EXPECT_EQ(whole.sizes(), (std::vector<int64_t>{2, 2, 16, 24}));
  EXPECT_EQ(max_abs_diff(whole, net(pre_, post_)), 0.0);
  EXPECT_LT(max_abs_diff(change_logits(*model_, pre_, post_, {32, 0}), whole), 1e-6);
  // Float inputs in 0..255 are the same as uint8 ones.
  EXPECT_EQ(max_abs_diff(change_logits(*model_, pre_.to(torch::kFloat), post_.to(torch::kFloat)), whole), 0.0);
}

TEST_F(ChangeInference, AdjacentTilesAreIndependentAndOverlapsAverage) {
  using torch::indexing::Slice;
  const auto tiled = change_logits(*model_, pre_, post_, {8, 0});
  for (int64_t top : {0, 8})
    for (int64_t left : {0, 8, 16}) {
      const auto w = [&](const at::Tensor& t) { return t.index({Slice(), Slice(), Slice(top, top + 8), Slice(left, left + 8)}); };
      EXPECT_LT(max_abs_diff(w(tiled), net(w(pre_), w(post_))), 1e-5) << top << "," << left;
    }
  // Windows one per pass or several per pass: the same logits.
  EXPECT_LT(max_abs_diff(change_logits(*model_, pre_, post_, {8, 0, 1}), tiled), 1e-5);
  EXPECT_LT(max_abs_diff(change_logits(*model_, pre_, post_, {8, 0, 4}), tiled), 1e-5);
  // 16 x 16 windows every 8 columns over 16 x 24: columns 8..15 are covered by both windows.
  const auto overlapped = change_logits(*model_, pre_, post_, {16, 8});
  const auto left = net(pre_.narrow(3, 0, 16), post_.narrow(3, 0, 16));
  const auto right = net(pre_.narrow(3, 8, 16), post_.narrow(3, 8, 16));
  EXPECT_LT(max_abs_diff(overlapped.narrow(3, 0, 8), left.narrow(3, 0, 8)), 1e-5);
  EXPECT_LT(max_abs_diff(overlapped.narrow(3, 8, 8), (left.narrow(3, 8, 8) + right.narrow(3, 0, 8)) / 2), 1e-5);
  EXPECT_LT(max_abs_diff(overlapped.narrow(3, 16, 8), right.narrow(3, 8, 8)), 1e-5);
  EXPECT_THROW(change_logits(*model_, pre_, post_.narrow(3, 0, 8)), Error);
  EXPECT_THROW(change_logits(*model_, pre_, post_, {-1, 0}), Error);
}

TEST(ChangeMask, ThresholdsTheChangeProbability) {
  // p1 = sigmoid(l1 - l0): l1 - l0 = log(3/7) -> 0.3, 0 -> 0.5 (not above 0.5), log(7/3) -> 0.7.
  const auto logits = torch::tensor({0.0, 0.0, 0.0, std::log(3.0 / 7), 0.0, std::log(7.0 / 3)}).view({1, 2, 1, 3});
  EXPECT_TRUE(torch::equal(change_mask(logits), torch::tensor({0, 0, 1}, torch::kByte).view({1, 1, 3})));
  EXPECT_TRUE(torch::equal(change_mask(logits, 0.25), torch::tensor({1, 1, 1}, torch::kByte).view({1, 1, 3})));
  EXPECT_TRUE(torch::equal(change_mask(logits, 0.6), torch::tensor({0, 0, 1}, torch::kByte).view({1, 1, 3})));
  EXPECT_THROW(change_mask(torch::zeros({1, 3, 2, 2})), Error);
}

}  // namespace
}  // namespace vss::test
