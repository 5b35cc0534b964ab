// Model EMA: one and two updates worked by hand (decay 0.9), buffers copied, resume load.
#include "core/error.h"
#include "engine/ema.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

struct Toy : torch::nn::Module {
  Toy() {
    weight = register_parameter("weight", torch::tensor({1.0f, 2.0f}));
    count = register_buffer("count", torch::tensor({7.0f}));
  }
  torch::Tensor weight, count;
};

TEST(ModelEma, UpdatesByHand) {
  Toy model;
  vss::ModelEma ema(model, 0.9);
  torch::NoGradGuard no_grad;
  model.weight.copy_(torch::tensor({3.0f, -1.0f}));
  model.count.fill_(8.0f);
  ema.update(model);
  // 0.9 * [1, 2] + 0.1 * [3, -1] = [1.2, 1.7]; the buffer is copied, not averaged.
  EXPECT_NEAR(ema.state()[0].second[0].item<float>(), 1.2f, 1e-6);
  EXPECT_NEAR(ema.state()[0].second[1].item<float>(), 1.7f, 1e-6);
  EXPECT_EQ(ema.state()[1].first, "count");
  EXPECT_EQ(ema.state()[1].second.item<float>(), 8.0f);
  model.weight.zero_();
  ema.update(model);
  // 0.9 * [1.2, 1.7] = [1.08, 1.53]
  EXPECT_NEAR(ema.state()[0].second[0].item<float>(), 1.08f, 1e-6);
  EXPECT_NEAR(ema.state()[0].second[1].item<float>(), 1.53f, 1e-6);
  // The model itself is untouched by the EMA.
  EXPECT_EQ(model.weight[0].item<float>(), 0.0f);
}

TEST(ModelEma, LoadsSavedAveragesAndChecksShapes) {
  Toy model;
  vss::ModelEma ema(model, 0.5);
  ema.load({{"ema.weight", torch::tensor({4.0f, 5.0f})}, {"ema.count", torch::tensor({1.0f})}}, "ema.", "x.safetensors");
  EXPECT_EQ(ema.state()[0].second[1].item<float>(), 5.0f);
  EXPECT_THROW(ema.load({{"ema.weight", torch::tensor({4.0f})}, {"ema.count", torch::tensor({1.0f})}}, "ema.", "x"),
               vss::Error);
  EXPECT_THROW(ema.load({{"ema.weight", torch::tensor({4.0f, 5.0f})}}, "ema.", "x"), vss::Error);
  EXPECT_THROW(vss::ModelEma(model, 1.0), vss::Error);
}

}  // namespace
