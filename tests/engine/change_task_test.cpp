// The change task: joint augmentation checked by construction through the whole data path
// (a hand-made pair written in the LEVIR-CD layout whose date A stores each pixel's row and
// column, B = 255 − A, label a function of (row, column)); batches are a pure function of
// (indices, seed); the validation F1 is that of the confusion matrix summed over the set
// (checked against pair-by-pair forwards and 2TP / (2TP + FP + FN)); a short run on generated
// pairs lowers the loss and resumes exactly; bad configs and missing partners.
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/change_folder.h"
#include "engine/checkpoint.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "heads/change/mamba_bcd.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

// A task config around configs/change/mambabcd_test.yaml.
Config task_config(const std::string& task, const std::string& data) {
  Config c = Config::parse("task: " + task + "\ndata: " + data + "\n");
  c.apply_override("model=" + Config::load(source_dir() / "configs/change/mambabcd_test.yaml").dump());
  return c;
}

int64_t label_of(int64_t row, int64_t col) { return (row * 3 + col * 5) % 7 < 3 ? 1 : 0; }

// LEVIR-CD layout under `root/split` with one coordinate pair of H x W named `name`.
void write_coordinate_pair(const fs::path& root, const std::string& split, const std::string& name, int64_t H, int64_t W) {
  change::ChangePair p;
  p.a = torch::zeros({3, H, W}, torch::kByte);
  p.label = torch::zeros({H, W}, torch::kByte);
  for (int64_t r = 0; r < H; ++r)
    for (int64_t c = 0; c < W; ++c) {
      p.a[0][r][c] = r;
      p.a[1][r][c] = c;
      p.a[2][r][c] = 100;
      p.label[r][c] = label_of(r, c);
    }
  p.b = 255 - p.a;
  change::write_change_pair(root / split, name, p);
}

class ChangeTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_change_task");
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  std::string folder_data(const std::string& extra) const {
    return "{type: change_folder, root: " + dir_.string() + ", train: train, val: val" + extra + "}";
  }
  fs::path dir_;
};

TEST_F(ChangeTaskTest, JointAugmentationByConstruction) {
  write_coordinate_pair(dir_, "train", "p", 13, 17);
  write_coordinate_pair(dir_, "val", "p", 13, 17);
  const auto task = make_task(
      task_config("{type: change}", folder_data(", crop: 8, hflip: true, vflip: true, rotate: true, swap: true")),
      c10::Device("cpu"));
  ASSERT_EQ(task->train_size(), 1);
  std::set<std::vector<int>> dihedral;
  std::set<bool> swaps;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const Batch b = task->train_batch({0, 0, 0, 0}, seed);
    ASSERT_EQ(b.inputs.sizes(), (std::vector<int64_t>{4, 2, 3, 8, 8}));
    ASSERT_EQ(b.inputs.scalar_type(), torch::kByte);
    ASSERT_EQ(b.targets.sizes(), (std::vector<int64_t>{4, 8, 8}));
    ASSERT_EQ(b.targets.scalar_type(), torch::kLong);
    for (int64_t k = 0; k < 4; ++k) {
      const bool swapped = b.inputs[k][0][2][0][0].item<int>() == 155;
      swaps.insert(swapped);
      const at::Tensor first = b.inputs[k][swapped ? 1 : 0].to(torch::kInt), second = b.inputs[k][swapped ? 0 : 1].to(torch::kInt);
      // Both dates and the label underwent the same crop, flips and rotation.
      EXPECT_TRUE(torch::equal(second, 255 - first)) << "seed " << seed << " sample " << k;
      auto f = first.accessor<int, 3>();
      for (int64_t i = 0; i < 8; ++i)
        for (int64_t j = 0; j < 8; ++j) ASSERT_EQ(b.targets[k][i][j].item<int64_t>(), label_of(f[0][i][j], f[1][i][j]));
      // The corner pixels of the window identify one of the 8 dihedral images.
      const int r0 = first[0].min().item<int>(), c0 = first[1].min().item<int>();
      std::vector<int> corners;
      for (int64_t i : {0, 7})
        for (int64_t j : {0, 7}) corners.push_back((f[0][i][j] - r0) * 10 + (f[1][i][j] - c0));
      dihedral.insert(corners);
    }
    // A pure function of (indices, seed): what makes resuming exact.
    EXPECT_TRUE(torch::equal(task->train_batch({0, 0, 0, 0}, seed).inputs, b.inputs));
  }
  EXPECT_EQ(dihedral.size(), 8u);
  EXPECT_EQ(swaps.size(), 2u);
}

TEST_F(ChangeTaskTest, ValidationF1IsThatOfTheSummedConfusionMatrix) {
  write_coordinate_pair(dir_, "train", "p", 8, 8);
  // Three pairs, two sizes: batches of one size at a time (eval_batch_size 2).
  write_coordinate_pair(dir_, "val", "v1", 12, 12);
  write_coordinate_pair(dir_, "val", "v2", 12, 12);
  write_coordinate_pair(dir_, "val", "v3", 9, 15);
  torch::manual_seed(3);
  const auto task = make_task(task_config("{type: change, eval_batch_size: 2}", folder_data("")), c10::Device("cpu"));
  auto& model = dynamic_cast<change::MambaBCDImpl&>(task->model());
  // Shift the change logit so that the untrained net predicts both classes, about half each.
  {
    torch::NoGradGuard no_grad;
    model.eval();
    const auto p = change::read_change_pair(change::find_change_split(dir_, "val").pairs[0]);
    const auto logits = model.forward(change::normalize_input(p.a.unsqueeze(0)), change::normalize_input(p.b.unsqueeze(0)));
    const double median = (logits.select(1, 1) - logits.select(1, 0)).median().item<double>();
    for (auto& param : model.named_parameters())
      if (param.key() == "main_clf.bias") param.value()[1] -= median;
    model.train();
  }
  const double f1 = task->evaluate();
  model.eval();
  torch::NoGradGuard no_grad;
  int64_t tp = 0, fp = 0, fn = 0;
  const auto files = change::find_change_split(dir_, "val");
  ASSERT_EQ(files.pairs.size(), 3u);
  for (const auto& m : files.pairs) {
    const auto p = change::read_change_pair(m);
    const auto logits = model.forward(change::normalize_input(p.a.unsqueeze(0)), change::normalize_input(p.b.unsqueeze(0)));
    const auto pred = logits.argmax(1)[0];
    const auto label = p.label.to(torch::kLong);
    tp += pred.eq(1).logical_and(label.eq(1)).sum().item<int64_t>();
    fp += pred.eq(1).logical_and(label.eq(0)).sum().item<int64_t>();
    fn += pred.eq(0).logical_and(label.eq(1)).sum().item<int64_t>();
  }
  ASSERT_GT(tp + fp, 0);
  EXPECT_NEAR(f1, 2.0 * tp / (2.0 * tp + fp + fn), 1e-12);
  EXPECT_EQ(task->metric_name(), "val_f1");
}

TEST_F(ChangeTaskTest, MissingPartnersAreSkippedAndBadConfigsAreErrors) {
  write_coordinate_pair(dir_, "train", "p", 8, 8);
  write_coordinate_pair(dir_, "train", "q", 10, 8);
  write_coordinate_pair(dir_, "val", "v", 8, 8);
  fs::remove(dir_ / "train" / "B" / "q.png");
  auto make = [&](const std::string& task, const std::string& data) {
    return make_task(task_config(task, data), c10::Device("cpu"));
  };
  EXPECT_EQ(make("{type: change}", folder_data(""))->train_size(), 1);
  write_coordinate_pair(dir_, "train", "q", 10, 8);
  auto message = [&](const std::string& task, const std::string& data) -> std::string {
    try {
      make(task, data);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message("{type: change}", folder_data("")).find("data.crop"), std::string::npos);  // sizes differ, no crop
  EXPECT_EQ(make("{type: change}", folder_data(", crop: 8"))->train_size(), 2);
  EXPECT_NE(message("{type: change}", "{type: change_folder, root: " + dir_.string() + ", train: nope, val: val}")
                .find("data.train"),
            std::string::npos);
  EXPECT_NE(message("{type: change}", "{type: levir}").find("data.type"), std::string::npos);
  EXPECT_NE(message("{type: change, eval_tile: -1}", folder_data(", crop: 8")).find("task.eval_tile"), std::string::npos);
  EXPECT_NE(message("{type: change}", folder_data(", crop: 8, flip: true")).find("flip"), std::string::npos);
  const std::string synth = "{type: synthetic_change, image_size: 16, train: {num: 4, seed: 1}, val: {num: 0, seed: 2}}";
  EXPECT_NE(message("{type: change}", synth).find("data.val.num"), std::string::npos);
  EXPECT_NE(message("{type: change}",
                    "{type: synthetic_change, train: {num: 4, seed: 1}, val: {num: 1, seed: 2}, distractors: {noise: -1}}")
                .find("data.distractors.noise"),
            std::string::npos);
}

NamedTensors model_tensors(const fs::path& run) {
  NamedTensors out;
  for (auto& [key, t] : read_checkpoint(run, "last").tensors)
    if (key.rfind("model.", 0) == 0) out.emplace_back(key, t);
  return out;
}

Config synthetic_training(int64_t steps) {
  Config c = task_config(
      "{type: change, eval_batch_size: 8}",
      "{type: synthetic_change, image_size: 40, crop: 32, hflip: true, rotate: true, swap: true, "
      "train: {num: 500, seed: 1}, val: {num: 8, seed: 2}, "
      "distractors: {illumination: 0, misregistration: 0, noise: 0, seasonal: 0, shadows: false, vehicles: false}}");
  c.apply_override("optimizer={type: adamw, lr: 0.004, weight_decay: 0.0}");
  c.apply_override("train={steps: " + std::to_string(steps) +
                   ", batch_size: 8, seed: 5, log_every: 5, eval_every: 0, checkpoint_every: 0}");
  return c;
}

TEST_F(ChangeTaskTest, ShortTrainingOnGeneratedPairsLowersTheLossAndResumesExactly) {
  TrainerOptions o;
  o.progress = false;
  o.run_dir = dir_ / "straight";
  const auto r = train(synthetic_training(30), o);
  EXPECT_EQ(r.steps_done, 30);
  EXPECT_LT(r.last_loss, r.first_loss);
  EXPECT_TRUE(r.has_metric);
  EXPECT_GE(r.last_metric, 0.0);
  EXPECT_LE(r.last_metric, 1.0);
  // 10 steps, then resumed to 30: the same weights as the straight run, bit for bit.
  o.run_dir = dir_ / "resumed";
  train(synthetic_training(10), o);
  o.resume = true;
  train(synthetic_training(30), o);
  const auto a = model_tensors(dir_ / "straight"), b = model_tensors(dir_ / "resumed");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
}

}  // namespace
}  // namespace vss::test
