// The weights a checkpoint exports: the EMA's when there is one (unless raw), the trained ones
// otherwise, with the prefix stripped and the optimizer / RNG tensors left out.
#include "engine/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

TEST(CheckpointWeights, EmaFirstUnlessRaw) {
  Checkpoint c;
  c.tensors = {{"model.w", torch::ones({2})}, {"ema.w", torch::full({2}, 2.0)}, {"optim.w.exp_avg", torch::zeros({2})},
               {"rng.cpu", torch::zeros({4}, torch::kByte)}};
  auto w = checkpoint_weights(c);
  EXPECT_TRUE(w.ema());
  ASSERT_EQ(w.state.size(), 1u);
  EXPECT_EQ(w.state[0].first, "w");
  EXPECT_EQ(w.state[0].second[0].item<float>(), 2.0f);
  w = checkpoint_weights(c, /*raw=*/true);
  EXPECT_FALSE(w.ema());
  EXPECT_EQ(w.prefix, "model.");
  EXPECT_EQ(w.state[0].second[0].item<float>(), 1.0f);
  c.tensors.erase(c.tensors.begin() + 1);
  w = checkpoint_weights(c);
  EXPECT_EQ(w.prefix, "model.");
  ASSERT_EQ(w.state.size(), 1u);
}

}  // namespace
}  // namespace vss
