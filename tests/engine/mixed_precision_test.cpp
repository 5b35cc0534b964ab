#include "core/error.h"
#include "engine/mixed_precision.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>

TEST(GradScaler, backs_off_on_overflow_and_grows_after_the_interval) {
  // Hand-worked: init 8, growth x2 every 3 clean steps, backoff x0.5.
  vss::GradScaler s(8.0, 2.0, 0.5, 3);
  const bool flags[] = {false, false, false, false, true, false, false, false, true, true};
  const double expected[] = {8, 8, 16, 16, 8, 8, 8, 16, 8, 4};
  for (size_t i = 0; i < std::size(flags); ++i) {
    s.update(flags[i]);
    EXPECT_EQ(s.scale(), expected[i]) << "after update " << i;
  }
}

TEST(GradScaler, unscales_gradients_and_detects_inf_and_nan) {
  vss::GradScaler s(4.0);
  auto a = torch::ones({3}, torch::requires_grad());
  auto b = torch::ones({2}, torch::requires_grad());
  auto unused = torch::ones({2}, torch::requires_grad());  // no grad: skipped
  (s.scale_loss((a * 2).sum() + (b * 3).sum())).backward();
  EXPECT_FALSE(s.unscale_and_check({a, b, unused}));
  EXPECT_TRUE(torch::allclose(a.grad(), torch::full({3}, 2.0)));
  EXPECT_TRUE(torch::allclose(b.grad(), torch::full({2}, 3.0)));
  b.mutable_grad()[1] = std::nan("");
  EXPECT_TRUE(s.unscale_and_check({a, b}));
  b.mutable_grad()[1] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(s.unscale_and_check({b}));
}

TEST(GradScaler, state_round_trips_and_missing_state_is_named) {
  vss::GradScaler s(16.0, 2.0, 0.5, 5);
  s.update(false);
  s.update(true);
  s.update(false);
  vss::GradScaler t;
  t.load(s.state("scaler."), "scaler.", "run/last.safetensors");
  EXPECT_EQ(t.scale(), 8.0);
  for (int i = 0; i < 3; ++i) t.update(false);  // 1 + 3 clean steps: not yet 5
  EXPECT_EQ(t.scale(), 8.0);
  try {
    t.load({}, "scaler.", "run/last.safetensors");
    FAIL();
  } catch (const vss::Error& e) {
    EXPECT_NE(std::string(e.what()).find("run/last.safetensors"), std::string::npos);
  }
}

TEST(Precision, names_and_devices) {
  EXPECT_FALSE(vss::parse_precision("fp32", c10::Device("cpu")).autocast.has_value());
  EXPECT_EQ(*vss::parse_precision("bf16", c10::Device("cpu")).autocast, torch::kBFloat16);
  EXPECT_EQ(*vss::parse_precision("fp16", c10::Device("cuda")).autocast, torch::kHalf);
  EXPECT_THROW(vss::parse_precision("fp16", c10::Device("cpu")), vss::Error);
  EXPECT_THROW(vss::parse_precision("float8", c10::Device("cpu")), vss::Error);
}

TEST(AutocastScope, casts_matmuls_inside_and_restores_outside) {
  const auto x = torch::randn({4, 4});
  EXPECT_EQ(torch::mm(x, x).scalar_type(), torch::kFloat);
  {
    vss::AutocastScope outer(c10::Device("cpu"), torch::kBFloat16);
    EXPECT_EQ(torch::mm(x, x).scalar_type(), torch::kBFloat16);
    {
      vss::AutocastScope none(c10::Device("cpu"), std::nullopt);  // fp32 scope changes nothing
      EXPECT_EQ(torch::mm(x, x).scalar_type(), torch::kBFloat16);
    }
    EXPECT_TRUE(at::autocast::is_autocast_enabled(at::kCPU));
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
  EXPECT_EQ(torch::mm(x, x).scalar_type(), torch::kFloat);
}
