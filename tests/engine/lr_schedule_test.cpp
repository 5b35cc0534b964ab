// Learning-rate schedules against their closed forms, worked by hand.
#include "core/config.h"
#include "core/error.h"
#include "engine/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

TEST(LrSchedule, CosineWithLinearWarmup) {
  // base 0.1, warm-up 10 steps from 0.1 * base, cosine over the remaining 100 steps to 0.001.
  const auto s = vss::LrSchedule::from_config(
      vss::Config::parse("{type: cosine, warmup_steps: 10, warmup_start_factor: 0.1, min_lr: 0.001}"), 0.1, 110);
  EXPECT_DOUBLE_EQ(s.at(0), 0.01);
  EXPECT_DOUBLE_EQ(s.at(5), 0.1 * (0.1 + 0.9 * 0.5));  // 0.055
  EXPECT_DOUBLE_EQ(s.at(10), 0.1);                    // cos(0) = 1
  EXPECT_NEAR(s.at(60), 0.0505, 1e-15);               // halfway: min + (base - min) / 2
  EXPECT_NEAR(s.at(35), 0.001 + 0.5 * 0.099 * (1 + std::sqrt(0.5)), 1e-15);  // quarter: cos(pi/4)
  EXPECT_DOUBLE_EQ(s.at(110), 0.001);
  EXPECT_DOUBLE_EQ(s.at(500), 0.001);  // past the end it stays at the floor
}

TEST(LrSchedule, StepDecayAfterWarmup) {
  const auto s = vss::LrSchedule::from_config(
      vss::Config::parse("{type: step, warmup_steps: 4, step_size: 30, gamma: 0.5}"), 2.0, 1000);
  EXPECT_DOUBLE_EQ(s.at(0), 0.0);
  EXPECT_DOUBLE_EQ(s.at(1), 0.5);
  EXPECT_DOUBLE_EQ(s.at(4), 2.0);
  EXPECT_DOUBLE_EQ(s.at(33), 2.0);
  EXPECT_DOUBLE_EQ(s.at(34), 1.0);
  EXPECT_DOUBLE_EQ(s.at(64), 0.5);
  EXPECT_DOUBLE_EQ(s.at(94), 0.25);
}

TEST(LrSchedule, PolyAfterWarmupAsMmseg) {
  // mmseg's ADE20K recipe shape: LinearLR from start_factor, then PolyLR
  // lr = min + (base - min)·(1 - t)^power over the remaining steps.
  const auto s = vss::LrSchedule::from_config(
      vss::Config::parse("{type: poly, warmup_steps: 10, warmup_start_factor: 1.0e-6, power: 2.0, min_lr: 0.01}"),
      0.1, 110);
  EXPECT_DOUBLE_EQ(s.at(0), 0.1e-6);
  EXPECT_DOUBLE_EQ(s.at(10), 0.1);
  EXPECT_NEAR(s.at(60), 0.01 + 0.09 * 0.25, 1e-15);   // halfway: (1/2)^2
  EXPECT_NEAR(s.at(85), 0.01 + 0.09 / 16.0, 1e-15);   // three quarters: (1/4)^2
  EXPECT_DOUBLE_EQ(s.at(110), 0.01);
  EXPECT_DOUBLE_EQ(s.at(300), 0.01);
  const auto linear = vss::LrSchedule::from_config(vss::Config::parse("{type: poly}"), 0.2, 100);  // power 1, min 0
  EXPECT_NEAR(linear.at(25), 0.15, 1e-15);
  EXPECT_THROW(vss::LrSchedule::from_config(vss::Config::parse("{type: poly, power: 0}"), 0.1, 10), vss::Error);
}

TEST(LrSchedule, ConstantIsTheBaseAfterWarmup) {
  const auto s = vss::LrSchedule::from_config(vss::Config::parse("{type: constant, warmup_steps: 2}"), 0.3, 10);
  EXPECT_DOUBLE_EQ(s.at(1), 0.15);
  EXPECT_DOUBLE_EQ(s.at(2), 0.3);
  EXPECT_DOUBLE_EQ(s.at(9), 0.3);
}

TEST(LrSchedule, BadConfigNamesTheKey) {
  try {
    vss::LrSchedule::from_config(vss::Config::parse("{type: exponential}", "sched.yaml"), 0.1, 10);
    FAIL() << "no error";
  } catch (const vss::Error& e) {
    EXPECT_NE(std::string(e.what()).find("type"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exponential"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vss::LrSchedule::from_config(vss::Config::parse("{type: step, step_size: 0}"), 0.1, 10), vss::Error);
  EXPECT_THROW(vss::LrSchedule::from_config(vss::Config::parse("{type: cosine, warmup: 3}"), 0.1, 10), vss::Error);
}

}  // namespace
