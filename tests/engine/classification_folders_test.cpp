// The classification task on image folders: class names from the folders (kept in the run's
// checkpoints), augmented batches reproducible from their seed, mixup's soft targets, an
// unreadable training image replaced by the next one, a validation class the training split
// lacks (an error naming the folder and the YAML key), and fine-tuning from weights with
// another head (only the head may differ).
#include "backbones/backbone_registry.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "engine/checkpoint.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

class ClassificationFolders : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "no image codecs in this build";
    root_ = make_temp_dir("vss-cls-folders");
    torch::manual_seed(0);
    for (const std::string split : {"train", "val"})
      for (const std::string cls : {"ant", "bee", "cow"})
        for (int i = 0; i < 3; ++i) {
          fs::create_directories(root_ / split / cls);
          write_image((root_ / split / cls / (std::to_string(i) + ".png")).string(),
                      torch::randint(0, 256, {20, 26, 3}, torch::kByte));
        }
  }
  void TearDown() override {
    if (!root_.empty()) remove_tree(root_);
  }
  Config config(const std::string& task_extra = "") const {
    Config c = Config::parse(
        "task: {type: classification, label_smoothing: 0.1, eval_batch_size: 4" + task_extra + "}\n"
        "data: {type: image_folder, root: '" + root_.string() + "', train: {}, val: {},\n"
        "       pipeline: {size: 16, color_jitter: 0.4, auto_augment: {type: trivial_augment_wide}}}\n"
        "optimizer: {type: adamw, lr: 0.001, weight_decay: 0.05}\n"
        "train: {steps: 2, batch_size: 4, log_every: 1}\n",
        "cls.yaml");
    Config model = Config::load(source_dir() / "configs/backbones/vss_tiny_test.yaml");
    model.apply_override("num_classes=3");
    c.set("model", model);
    return c;
  }
  fs::path root_;
};

TEST_F(ClassificationFolders, BatchesAreSeededAndMixupGivesSoftTargets) {
  const auto task = make_task(config(), c10::Device(c10::kCPU));
  EXPECT_EQ(task->class_names(), (std::vector<std::string>{"ant", "bee", "cow"}));
  EXPECT_EQ(task->train_size(), 9);
  const Batch a = task->train_batch({0, 4, 8}, 17), b = task->train_batch({0, 4, 8}, 17);
  EXPECT_EQ(a.inputs.sizes(), (std::vector<int64_t>{3, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(a.inputs, b.inputs));
  EXPECT_TRUE(torch::equal(a.targets, torch::tensor({0, 1, 2})));
  EXPECT_FALSE(torch::equal(a.inputs, task->train_batch({0, 4, 8}, 18).inputs));

  const auto mixing = make_task(config(", mixup: {mixup_alpha: 0.8, cutmix_alpha: 1.0}"), c10::Device(c10::kCPU));
  const Batch m = mixing->train_batch({0, 4, 8, 1}, 5);
  ASSERT_EQ(m.targets.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_LT(max_abs_diff(m.targets.sum(1), torch::ones({4})), 1e-6);
  EXPECT_GE(m.targets.min().item<float>(), 0.1f / 3 - 1e-6);  // every class keeps the smoothing's share
  EXPECT_TRUE(torch::isfinite(mixing->loss(m)).item<bool>());
}

TEST_F(ClassificationFolders, AnUnreadableImageGivesWayToTheNextOne) {
  std::ofstream(root_ / "train/ant/0.png", std::ios::trunc) << "not a png";
  const auto task = make_task(config(), c10::Device(c10::kCPU));
  const Batch batch = task->train_batch({0}, 3);
  EXPECT_EQ(batch.inputs.size(0), 1);
  EXPECT_EQ(batch.targets[0].item<int64_t>(), 0);  // ant/1.png took its place
  std::ofstream(root_ / "val/bee/1.png", std::ios::trunc) << "";
  const double top1 = task->evaluate();  // 8 readable images
  EXPECT_EQ(std::round(top1 * 8), top1 * 8);
}

TEST_F(ClassificationFolders, AValidationClassMissingFromTrainingNamesTheFolder) {
  fs::create_directories(root_ / "val/dog");
  write_image((root_ / "val/dog/0.png").string(), torch::zeros({8, 8, 3}, torch::kByte));
  const std::string error = error_of([&] { make_task(config(), c10::Device(c10::kCPU)); });
  EXPECT_NE(error.find("data.val: " + (root_ / "val/dog").string() + ": class 'dog' is not one of the 3 training classes"),
            std::string::npos)
      << error;
}

TEST_F(ClassificationFolders, FineTuningReplacesOnlyTheHead) {
  Config five = Config::load(source_dir() / "configs/backbones/vss_tiny_test.yaml");
  five.apply_override("num_classes=5");
  torch::manual_seed(42);
  const auto pretrained = make_backbone(five);
  const std::string weights = (root_ / "pretrained.safetensors").string();
  save_weights(*pretrained, weights);
  const auto task = make_task(config(", pretrained: '" + weights + "'"), c10::Device(c10::kCPU));
  const auto loaded = model_state(task->model());
  for (const auto& [name, t] : model_state(*pretrained)) {
    const auto it = std::find_if(loaded.begin(), loaded.end(), [&](const auto& kv) { return kv.first == name; });
    ASSERT_NE(it, loaded.end()) << name;
    if (name.rfind("classifier.head.", 0) == 0) EXPECT_EQ(it->second.size(0), 3) << name;
    else EXPECT_TRUE(torch::equal(it->second, t)) << name;
  }
  // Another body: an error naming the key and the file, from the YAML key.
  Config wider = five;
  wider.apply_override("dims=[8,8,8,16]");
  save_weights(*make_backbone(wider), weights);
  const std::string error = error_of([&] { make_task(config(", pretrained: '" + weights + "'"), c10::Device(c10::kCPU)); });
  EXPECT_NE(error.find("task.pretrained: " + weights + ": weights do not fit the model"), std::string::npos) << error;
  EXPECT_NE(error.find("patch_embed.0.weight"), std::string::npos) << error;
}

TEST_F(ClassificationFolders, TheRunKeepsTheClassNames) {
  TrainerOptions options;
  options.run_dir = root_ / "run";
  options.progress = false;
  train(config(), options);
  EXPECT_EQ(read_checkpoint(options.run_dir, "best").info.classes, (std::vector<std::string>{"ant", "bee", "cow"}));
  EXPECT_EQ(read_checkpoint(options.run_dir, "last").info.classes, (std::vector<std::string>{"ant", "bee", "cow"}));
}

}  // namespace
}  // namespace vss::test
