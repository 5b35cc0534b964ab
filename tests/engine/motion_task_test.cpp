// The motion task: windows of history + 2 consecutive gt boxes (split at frame gaps, only
// considered class-1 boxes), inputs and targets = scaled differences of boxes normalised by
// the image size, checked by hand on a written gt; a short training run on
// generated sequences lowers the loss; bad data configs are one-line errors.
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <fstream>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

constexpr char kModel[] =
    "model: {type: mtp, d_model: 8, d_state: 4, num_layers: 1, mlp_hidden: 16, head_hidden: 8, history: 3, scale: 50}\n";

// Track 1: frames 1..7 then 10..14 (runs of 7 and 5 boxes); track 2: 4 boxes (too short);
// track 3: class 2 (not a pedestrian), 8 boxes; track 4: consider flag 0.
fs::path write_split(const fs::path& root) {
  const fs::path seq = root / "seq-a";
  fs::create_directories(seq / "gt");
  std::ofstream(seq / "seqinfo.ini") << "[Sequence]\nname=seq-a\nframeRate=30\nseqLength=20\nimWidth=200\nimHeight=100\n";
  std::ofstream gt(seq / "gt" / "gt.txt");
  for (int f = 1; f <= 14; ++f)
    if (f <= 7 || f >= 10) gt << f << ",1," << 10 * f << "," << f * f << ",20,40,1,1,1\n";
  for (int f = 1; f <= 4; ++f) gt << f << ",2,0,0,10,10,1,1,1\n";
  for (int f = 1; f <= 8; ++f) gt << f << ",3,0,0,10,10,1,2,1\n";
  for (int f = 1; f <= 8; ++f) gt << f << ",4,0,0,10,10,0,1,1\n";
  return root;
}

Config task_config(const fs::path& data) {
  return Config::parse(std::string("task: {type: motion}\n") + kModel + "data: {type: mot, train: {dir: " +
                       data.string() + "}, val: {dir: " + data.string() + "}}\n");
}

TEST(MotionTask, WindowsFromGtByHand) {
  const auto dir = make_temp_dir("vss_motion_task");
  const auto task = make_task(task_config(write_split(dir)), c10::Device("cpu"));
  // history 3 -> windows of 5 boxes: 3 in the 7-box run, 1 in the 5-box run.
  ASSERT_EQ(task->train_size(), 4);
  const Batch b = task->train_batch({0, 3}, 0);
  ASSERT_EQ(b.inputs.sizes(), (std::vector<int64_t>{2, 3, 4}));
  ASSERT_EQ(b.targets.sizes(), (std::vector<int64_t>{2, 4}));
  // Window 0: frames 1..5; cx = 10f + 10 over width 200, cy = f² + 20 over height 100.
  // Differences ×50: dcx = 10/200·50 = 2.5; dcy = (2f+1)/100·50 for f = 1, 2, 3, target f = 4.
  EXPECT_FLOAT_EQ(b.inputs[0][0][0].item<float>(), 2.5f);
  EXPECT_FLOAT_EQ(b.inputs[0][0][1].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(b.inputs[0][2][1].item<float>(), 3.5f);
  EXPECT_FLOAT_EQ(b.inputs[0][1][2].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(b.targets[0][1].item<float>(), 4.5f);
  // Window 3: frames 10..14: target dcy = (2·13 + 1)/2 = 13.5.
  EXPECT_FLOAT_EQ(b.targets[1][1].item<float>(), 13.5f);
  EXPECT_EQ(task->metric_name(), "val_iou");
  const double iou = task->evaluate();
  EXPECT_GE(iou, 0.0);
  EXPECT_LE(iou, 1.0);
  remove_tree(dir);
}

// With input_noise σ the inputs are differences of jittered boxes and the target runs from
// the last jittered box to the true next one: the differences telescope, so the first
// jittered box = true next box − (Σ inputs + target)/scale, and its offset from the true
// first box has the detector's spread (σ·w in cx, σ·h in cy, σ relative in w, h).
TEST(MotionTask, InputNoiseJittersTheHistoryNotTheTarget) {
  const auto dir = make_temp_dir("vss_motion_noise");
  Config c = task_config(write_split(dir));
  c.apply_override("data.input_noise=0.1");
  const auto task = make_task(c, c10::Device("cpu"));
  std::vector<int64_t> idx;
  for (int r = 0; r < 2000; ++r) idx.push_back(r % 4);
  const Batch a = task->train_batch(idx, 7), again = task->train_batch(idx, 7), other = task->train_batch(idx, 8);
  EXPECT_TRUE(torch::equal(a.inputs, again.inputs));
  EXPECT_FALSE(torch::equal(a.inputs, other.inputs));
  // Window 0 (frames 1..5 of track 1): box f = (cx 10f+10, cy f²+20, w 20, h 40) / (200, 100).
  auto box = [](double f) { return std::array<double, 4>{(10 * f + 10) / 200, (f * f + 20) / 100, 0.1, 0.4}; };
  const auto first = box(1), next = box(5);
  std::array<double, 4> sum{}, sq{};
  int64_t count = 0;
  for (int64_t r = 0; r < 2000; r += 4, ++count)
    for (int k = 0; k < 4; ++k) {
      const double total = (a.inputs[r].select(1, k).sum() + a.targets[r][k]).item<double>() / 50;
      const double offset = (next[k] - total) - first[k];  // jittered first box − true first box
      sum[k] += offset;
      sq[k] += offset * offset;
    }
  const std::array<double, 4> spread{0.1 * 0.1, 0.1 * 0.4, 0.1 * 0.1, 0.1 * 0.4};  // σ·w, σ·h, σ·w, σ·h
  for (int k = 0; k < 4; ++k) {
    const double mean = sum[k] / count, sd = std::sqrt(sq[k] / count - mean * mean);
    EXPECT_NEAR(mean, 0.0, 4 * spread[k] / std::sqrt(count)) << k;
    EXPECT_NEAR(sd / spread[k], 1.0, 0.15) << k;
  }
  remove_tree(dir);
}

TEST(MotionTask, BadDataConfigsAreErrors) {
  const auto dir = make_temp_dir("vss_motion_bad");
  auto make = [&](const std::string& data) {
    return make_task(Config::parse(std::string("task: {type: motion}\n") + kModel + "data: " + data),
                     c10::Device("cpu"));
  };
  EXPECT_THROW(make("{type: kitti, train: {}, val: {}}"), Error);
  write_split(dir / "ok");
  EXPECT_THROW(make("{type: mot, input_noise: -0.1, train: {dir: " + (dir / "ok").string() + "}, val: {dir: " +
                    (dir / "ok").string() + "}}"),
               Error);
  EXPECT_THROW(make("{type: mot, train: {dir: /no/such/dir}, val: {dir: /no/such/dir}}"), Error);
  fs::create_directories(dir / "empty");
  EXPECT_THROW(make("{type: mot, train: {dir: " + (dir / "empty").string() + "}, val: {dir: " + (dir / "empty").string() + "}}"),
               Error);
  remove_tree(dir);
}

TEST(MotionTask, ShortTrainingLowersTheLoss) {
  const auto dir = make_temp_dir("vss_motion_train");
  Config c = Config::load(source_dir() / "configs/track/mtp_synth.yaml");
  for (const char* s : {"model.d_model=16", "model.num_layers=1", "model.mlp_hidden=32", "model.head_hidden=16",
                        "data.train.sequences=2", "data.train.frames=80", "data.val.sequences=1",
                        "data.val.frames=60", "train.steps=60", "train.batch_size=32", "train.log_every=10",
                        "train.eval_every=60", "train.checkpoint_every=0", "schedule.warmup_steps=5",
                        "optimizer.lr=0.005"})
    c.apply_override(s);
  TrainerOptions o;
  o.run_dir = dir / "run";
  o.progress = false;
  const auto r = train(c, o);
  EXPECT_EQ(r.steps_done, 60);
  EXPECT_LT(r.last_loss, r.first_loss);
  EXPECT_TRUE(r.has_metric);
  EXPECT_GT(r.last_metric, 0.3);  // IoU of next-box predictions on held-out sequences
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
