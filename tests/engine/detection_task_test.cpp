// The detection task: batches are a pure function of (indices, seed) with targets that are
// CenterNet's maps of the augmented boxes; the loss is CenterNet's total on them; the
// validation AP is COCO AP of the model's detections; a short run lowers the loss and resumes
// bit for bit; the configs in configs/detect load; bad configs name their key.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/remove_tree.h"
#include "engine/checkpoint.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "heads/detect/centernet.h"
#include "heads/detect/centernet_targets.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

Config det_config(int64_t steps = 10) {
  Config c = Config::load(source_dir() / "configs/detect/centernet_tiny.yaml");
  c.apply_override("model.backbone.depths=[1, 1, 1, 1]");
  c.apply_override("model.backbone.dims=[8, 8, 16, 16]");
  c.apply_override("model.neck.channels=8");
  c.apply_override("model.head.head_conv=8");
  c.apply_override("data={type: rendered_mot, width: 128, height: 96, objects: 4, train: {sequences: 3, frames: 8, seed: 1}, "
                   "val: {sequences: 1, frames: 3, seed: 2}, pipeline: {input_size: [64, 96], scale_range: [0.7, 1.3], "
                   "flip_prob: 0.5, photometric: true}}");
  c.apply_override("optimizer={type: adamw, lr: 0.005, weight_decay: 0.0}");
  c.apply_override("schedule={type: constant}");
  c.apply_override("train={steps: " + std::to_string(steps) +
                   ", batch_size: 4, seed: 3, log_every: 5, eval_every: 0, checkpoint_every: 0}");
  return c;
}

TEST(DetectionTask, BatchesArePureAndTargetsAreCenterNetMaps) {
  torch::manual_seed(0);
  const auto task = make_task(det_config(), c10::Device("cpu"));
  EXPECT_EQ(task->train_size(), 24);
  EXPECT_EQ(task->metric_name(), "AP");
  const Batch a = task->train_batch({0, 5, 9}, 42), b = task->train_batch({0, 5, 9}, 42);
  ASSERT_EQ(a.inputs.sizes(), (at::IntArrayRef{3, 3, 64, 96}));
  ASSERT_EQ(a.targets.sizes(), (at::IntArrayRef{3, 6, 16, 24}));
  EXPECT_TRUE(torch::equal(a.inputs, b.inputs));
  EXPECT_TRUE(torch::equal(a.targets, b.targets));
  EXPECT_FALSE(torch::equal(a.inputs, task->train_batch({0, 5, 9}, 43).inputs));
  // Every object has a peak of exactly 1 at its centre pixel, where the mask is 1.
  const at::Tensor peaks = a.targets.select(1, 0).eq(1), mask = a.targets.select(1, 5).eq(1);
  EXPECT_TRUE(torch::equal(peaks, mask));
  EXPECT_GT(mask.sum().item<int64_t>(), 0);
  // The loss is the CenterNet total on these targets.
  auto& model = dynamic_cast<detect::CenterNetImpl&>(task->model());
  const at::Tensor expected =
      detect::centernet_loss(model.forward(model.normalize(a.inputs)), a.targets, {1.0, 0.1, 1.0}).total;
  EXPECT_NEAR(task->loss(a).item<double>(), expected.item<double>(), 1e-5);
  const double ap = task->evaluate();
  EXPECT_GE(ap, 0.0);
  EXPECT_LE(ap, 1.0);
}

NamedTensors detection_model_tensors(const fs::path& run) {
  NamedTensors out;
  for (auto& [key, t] : read_checkpoint(run, "last").tensors)
    if (key.rfind("model.", 0) == 0) out.emplace_back(key, t);
  return out;
}

TEST(DetectionTask, ShortTrainingLowersTheLossAndResumesExactly) {
  const fs::path dir = make_temp_dir("vss_det_train");
  TrainerOptions o;
  o.progress = false;
  o.run_dir = dir / "straight";
  const auto r = train(det_config(20), o);
  EXPECT_EQ(r.steps_done, 20);
  EXPECT_LT(r.last_loss, 0.8 * r.first_loss) << r.first_loss << " -> " << r.last_loss;
  EXPECT_TRUE(r.has_metric);
  o.run_dir = dir / "resumed";
  train(det_config(8), o);
  o.resume = true;
  train(det_config(20), o);
  const auto a = detection_model_tensors(dir / "straight"), b = detection_model_tensors(dir / "resumed");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  remove_tree(dir);
}

TEST(DetectionTask, ConfigsLoadAndBadKeysAreNamed) {
  Config big = Config::load(source_dir() / "configs/detect/centernet_vmamba_tiny.yaml");
  // The VMamba-T network builds (its MOT17 data is not here: the data error names the key).
  EXPECT_NO_THROW(detect::make_centernet(big["model"]));
  const std::string err = error_of([&] { make_task(big, c10::Device("cpu")); });
  EXPECT_NE(err.find("data.train"), std::string::npos) << err;
  Config c = det_config();
  c.apply_override("data.pipeline.crop=3");
  EXPECT_NE(error_of([&] { make_task(c, c10::Device("cpu")); }).find("crop"), std::string::npos);
  Config d = det_config();
  d.apply_override("model.num_classes=3");
  EXPECT_NE(error_of([&] { make_task(d, c10::Device("cpu")); }).find("model.num_classes is 3"), std::string::npos);
  Config e = det_config();
  e.apply_override("data.type=voc");
  EXPECT_NE(error_of([&] { make_task(e, c10::Device("cpu")); }).find("unknown detection data 'voc'"), std::string::npos);
}

}  // namespace
}  // namespace vss::test
