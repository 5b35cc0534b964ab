// The semantic change task: batches carry both dates and the three labels, consistent after
// the joint augmentation and a pure function of (indices, seed); the validation SeK is that
// of one confusion matrix over the whole set (pairs of two sizes, checked against pair-by-pair
// forwards); a short run on generated pairs lowers the loss and resumes bit for bit; a folder
// in either SECOND layout trains; bad configs name their key.
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/second_folder.h"
#include "datasets/synthetic_semantic_change.h"
#include "engine/checkpoint.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "heads/change/change_inference.h"
#include "heads/change/mamba_scd.h"
#include "heads/change/semantic_change_metrics.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

// Named: the unity build puts several test files in one translation unit.
namespace vss::test::scd_task_tests {
namespace {

namespace fs = std::filesystem;

Config task_config(const std::string& task, const std::string& data) {
  Config c = Config::parse("task: " + task + "\ndata: " + data + "\n");
  c.apply_override("model=" + Config::load(source_dir() / "configs/change/mambascd_test.yaml").dump());
  return c;
}

const std::string kGenerated =
    "{type: synthetic_semantic_change, image_size: 40, crop: 32, hflip: true, vflip: true, rotate: true, swap: true, "
    "train: {num: 200, seed: 1}, val: {num: 4, seed: 2}}";

TEST(SemanticChangeTask, BatchesCarryTheDatesAndThreeConsistentLabels) {
  const auto task = make_task(task_config("{type: semantic_change}", kGenerated), c10::Device("cpu"));
  EXPECT_EQ(task->train_size(), 200);
  EXPECT_EQ(task->metric_name(), "val_sek");
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const Batch b = task->train_batch({0, 5, 7}, seed);
    ASSERT_EQ(b.inputs.sizes(), (std::vector<int64_t>{3, 2, 3, 32, 32}));
    ASSERT_EQ(b.inputs.scalar_type(), torch::kByte);
    ASSERT_EQ(b.targets.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
    const auto change = b.targets.select(1, 0), l1 = b.targets.select(1, 1), l2 = b.targets.select(1, 2);
    // The same crop and dihedral transform went to all three labels (and a swap to both maps).
    EXPECT_TRUE(torch::equal(change.eq(1), l1.ne(0)));
    EXPECT_TRUE(torch::equal(change.eq(1), l2.ne(0)));
    EXPECT_TRUE(torch::equal(task->train_batch({0, 5, 7}, seed).inputs, b.inputs));
    EXPECT_TRUE(torch::equal(task->train_batch({0, 5, 7}, seed).targets, b.targets));
  }
}

TEST(SemanticChangeTask, ValidationSekIsThatOfOneMatrixOverTheSet) {
  if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
  const fs::path dir = make_temp_dir("vss_scd_task");
  change::SyntheticSemanticChangeOptions o;
  o.seed = 9;
  for (int i = 0; i < 3; ++i) {
    o.height = o.width = i < 2 ? 32 : 24;  // two sizes: batches of one size at a time
    const std::string index = std::to_string(i);
    change::write_semantic_change_pair(dir / "val", std::string("v").append(index), change::make_synthetic_semantic_change(o, i),
                                   "changemamba");
    change::write_semantic_change_pair(dir / "train", std::string("t").append(index),
                                   change::make_synthetic_semantic_change(o, i + 10), "second");
  }
  torch::manual_seed(3);
  const auto task = make_task(task_config("{type: semantic_change, eval_batch_size: 2}",
                                          "{type: second_folder, root: " + dir.string() + ", train: train, val: val, crop: 16}"),
                              c10::Device("cpu"));
  auto& model = dynamic_cast<change::MambaSCDImpl&>(task->model());
  const double sek = task->evaluate();
  model.eval();
  torch::NoGradGuard no_grad;
  change::SemanticConfusion confusion(7);
  const auto split = change::find_semantic_change_split(dir / "val");
  ASSERT_EQ(split.pairs.size(), 3u);
  for (const auto& m : split.pairs) {
    const auto p = change::read_semantic_change_pair(m);
    const auto out = model.forward(change::normalize_input(p.a.unsqueeze(0)), change::normalize_input(p.b.unsqueeze(0)));
    const auto changed = out.change.argmax(1)[0];
    confusion.add_map(out.t1.argmax(1)[0] * changed, p.label1, m.name);
    confusion.add_map(out.t2.argmax(1)[0] * changed, p.label2, m.name);
  }
  EXPECT_NEAR(sek, change::semantic_change_metrics(confusion).sek, 1e-12);
  remove_tree(dir);
}

NamedTensors model_tensors(const fs::path& run) {
  NamedTensors out;
  for (auto& [key, t] : read_checkpoint(run, "last").tensors)
    if (key.rfind("model.", 0) == 0) out.emplace_back(key, t);
  return out;
}

Config short_training(int64_t steps) {
  Config c = task_config("{type: semantic_change, eval_batch_size: 4}", kGenerated);
  c.apply_override("optimizer={type: adamw, lr: 0.004, weight_decay: 0.0}");
  c.apply_override("train={steps: " + std::to_string(steps) +
                   ", batch_size: 4, seed: 5, log_every: 4, eval_every: 0, checkpoint_every: 0}");
  return c;
}

TEST(SemanticChangeTask, ShortTrainingLowersTheLossAndResumesExactly) {
  const fs::path dir = make_temp_dir("vss_scd_train");
  TrainerOptions o;
  o.progress = false;
  o.run_dir = dir / "straight";
  const auto r = train(short_training(16), o);
  EXPECT_EQ(r.steps_done, 16);
  EXPECT_LT(r.last_loss, r.first_loss);
  EXPECT_TRUE(r.has_metric);
  EXPECT_EQ(r.metric, "val_sek");
  // 6 steps, then resumed to 16: the same weights as the straight run, bit for bit.
  o.run_dir = dir / "resumed";
  train(short_training(6), o);
  o.resume = true;
  train(short_training(16), o);
  const auto a = model_tensors(dir / "straight"), b = model_tensors(dir / "resumed");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  remove_tree(dir);
}

TEST(SemanticChangeTask, BadConfigsNameTheKey) {
  auto message = [](const std::string& task, const std::string& data, const std::vector<std::string>& overrides = {}) {
    return error_of([&] {
      Config c = task_config(task, data);
      for (const auto& o : overrides) c.apply_override(o);
      make_task(c, c10::Device("cpu"));
    });
  };
  EXPECT_NE(message("{type: semantic_change}", "{type: second}").find("data.type"), std::string::npos);
  EXPECT_NE(message("{type: semantic_change, eval_tile: -1}", kGenerated).find("task.eval_tile"), std::string::npos);
  EXPECT_NE(message("{type: semantic_change}", kGenerated, {"model.semantic_classes=5"}).find("model.semantic_classes"),
            std::string::npos);
  EXPECT_NE(message("{type: semantic_change}", kGenerated, {"model.type=mamba_bcd"}).find("model.type"),
            std::string::npos);
  EXPECT_NE(message("{type: semantic_change}", kGenerated, {"data.val.num=0"}).find("data.val.num"), std::string::npos);
  EXPECT_NE(message("{type: semantic_change}", kGenerated, {"data.noise=-2"}).find("data.noise"), std::string::npos);
  EXPECT_NE(message("{type: semantic_change}", "{type: second_folder, root: /nonexistent, train: train, val: val}")
                .find("data.train"),
            std::string::npos);
}

}  // namespace
}  // namespace vss::test::scd_task_tests
