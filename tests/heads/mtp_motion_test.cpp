// The MTP as the tracker's motion model: hand-checkable predictions with a network whose
// output is a constant (last box + c / scale, de-normalised), autoregressive patching of
// missed frames, no motion with one box, and batching over tracks of different history
// lengths equal to predicting each track alone.
#include "core/error.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_motion.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

using track::MambaMotionPredictor;
using track::Tlwh;

MambaMotionPredictor small_model() {
  track::MtpOptions o;
  o.mamba.d_model = 8;
  o.mamba.d_state = 4;
  o.num_layers = 1;
  o.mlp_hidden = 16;
  o.head_hidden = 8;
  o.history = 4;
  return MambaMotionPredictor(o);
}

// The network's output becomes the constant `c` (scaled differences).
MambaMotionPredictor constant_model(const std::vector<float>& c) {
  auto m = small_model();
  torch::NoGradGuard g;
  m->head_fc2->weight.zero_();
  m->head_fc2->bias.copy_(torch::tensor(c));
  return m;
}

TEST(MtpMotion, ConstantNetworkMovesBoxesByItsOutput) {
  const double W = 1000, H = 500;
  auto model = constant_model({5, -2.5, 0.5, 1});  // scale 50: dcx = 0.1 W, dcy = -0.05 H, dw = 0.01 W, dh = 0.02 H
  auto motion = track::make_mtp_motion(model.ptr(), W, H);
  auto s = motion->initiate({100, 100, 40, 80});
  // One box: no motion.
  motion->predict({s.get()}, {0});
  EXPECT_DOUBLE_EQ(s->box().x, 100);
  motion->update(*s, {110, 100, 40, 80});
  // Two boxes: centre (130, 140) + (100, -25), size (40 + 10, 80 + 10).
  motion->predict({s.get()}, {0});
  Tlwh b = s->box();
  EXPECT_NEAR(b.x + b.w / 2, 230, 1e-9);
  EXPECT_NEAR(b.y + b.h / 2, 115, 1e-9);
  EXPECT_NEAR(b.w, 50, 1e-9);
  EXPECT_NEAR(b.h, 90, 1e-9);
  // Missed: the prediction becomes a pseudo-observation and the next one builds on it.
  motion->predict({s.get()}, {1});
  b = s->box();
  EXPECT_NEAR(b.x + b.w / 2, 330, 1e-9);
  EXPECT_NEAR(b.y + b.h / 2, 90, 1e-9);
  EXPECT_NEAR(b.w, 60, 1e-9);
  // A detection replaces this frame's prediction.
  motion->update(*s, {0, 0, 40, 80});
  EXPECT_DOUBLE_EQ(s->box().x, 0);
  EXPECT_EQ(motion->name(), "mtp");
}

TEST(MtpMotion, SizesStayPositive) {
  auto model = constant_model({0, 0, -1000, -1000});
  auto motion = track::make_mtp_motion(model.ptr(), 100, 100);
  auto s = motion->initiate({10, 10, 20, 20});
  motion->update(*s, {10, 10, 20, 20});
  motion->predict({s.get()}, {0});
  EXPECT_GT(s->box().w, 0);
  EXPECT_GT(s->box().h, 0);
}

TEST(MtpMotion, BatchedPredictionEqualsOneTrackAtATime) {
  torch::manual_seed(1);
  auto model = small_model();
  auto batched = track::make_mtp_motion(model.ptr(), 640, 480);
  auto single = track::make_mtp_motion(model.ptr(), 640, 480);
  std::vector<std::unique_ptr<track::MotionState>> a, b;
  // Histories of 1, 2, 4 and 7 boxes (capped at history + 1 = 5).
  for (int len : {1, 2, 4, 7}) {
    a.push_back(batched->initiate({100.0 + len, 50, 30, 60}));
    b.push_back(single->initiate({100.0 + len, 50, 30, 60}));
    for (int k = 1; k < len; ++k) {
      const Tlwh d{100.0 + len + 3 * k, 50.0 + k * k, 30.0 + k, 60};
      batched->update(*a.back(), d);
      single->update(*b.back(), d);
    }
  }
  std::vector<track::MotionState*> all;
  for (auto& s : a) all.push_back(s.get());
  batched->predict(all, std::vector<char>(all.size(), 0));
  for (size_t i = 0; i < b.size(); ++i) {
    single->predict({b[i].get()}, {0});
    EXPECT_NEAR(a[i]->box().x, b[i]->box().x, 1e-4) << i;
    EXPECT_NEAR(a[i]->box().h, b[i]->box().h, 1e-4) << i;
  }
}

TEST(MtpMotion, NeedsAnImageSize) {
  auto model = small_model();
  EXPECT_THROW(track::make_mtp_motion(model.ptr(), 0, 480), Error);
}

}  // namespace
}  // namespace vss::test
