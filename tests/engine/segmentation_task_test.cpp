// The segmentation task: batches are a pure function of (indices, seed), padded as mmseg pads
// (labels with ignore, images to 0 after normalising); the loss is CE(main) + 0.4 CE(aux)
// (checked against torch's cross_entropy); the validation mIoU of the file layouts (ADE20K
// with reduce_zero_label, images/ + masks/) equals image-by-image forwards scored with the
// data-set metric; a short run lowers the loss and resumes bit for bit; bad configs name
// their key.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/synthetic_scenes.h"
#include "engine/checkpoint.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "heads/seg/seg_metrics.h"
#include "heads/seg/segmentor.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

// A tiny FPN segmentor on the test backbone (configs/backbones/vss_tiny_test.yaml).
Config seg_config(const std::string& task, const std::string& data, const std::string& model_extra = "") {
  Config c = Config::parse("task: " + task + "\nmodel: {type: fpn, num_classes: 5, decode_head: {channels: 8}" +
                           model_extra + "}\ndata: " + data + "\n");
  c.apply_override("model.backbone=" + Config::load(source_dir() / "configs/backbones/vss_tiny_test.yaml").dump());
  c.apply_override("model.backbone.type=vssm_backbone");
  return c;
}

const char* kScenes = "{type: synthetic_scenes, image_size: 20, train: {size: 50, seed: 1}, val: {size: 6, seed: 2}";

std::shared_ptr<Task> make(const Config& c) { return make_task(c, c10::Device("cpu")); }

TEST(SegmentationTask, BatchesArePureFunctionsOfTheSeedAndPaddedAsMmseg) {
  const auto task = make(seg_config("{type: segmentation}", std::string(kScenes) + ", pipeline: {crop_size: [24, 28], flip_prob: 0.5}}"));
  auto& model = dynamic_cast<seg::SegmentorImpl&>(task->model());
  SyntheticScenesOptions o;
  o.size = 50;
  o.height = o.width = 20;
  o.seed = 1;
  const SyntheticScenes scenes(o);
  int flipped = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const Batch b = task->train_batch({3, 7, 3}, seed);
    ASSERT_EQ(b.inputs.sizes(), (std::vector<int64_t>{3, 3, 24, 28}));
    ASSERT_EQ(b.targets.sizes(), (std::vector<int64_t>{3, 24, 28}));
    EXPECT_TRUE(torch::equal(task->train_batch({3, 7, 3}, seed).inputs, b.inputs));
    EXPECT_TRUE(torch::equal(task->train_batch({3, 7, 3}, seed).targets, b.targets));
    // Padding: ignore in the labels, exactly 0 in the normalised images.
    EXPECT_TRUE(b.targets.narrow(1, 20, 4).eq(255).all().item<bool>());
    EXPECT_TRUE(b.targets.narrow(2, 20, 8).eq(255).all().item<bool>());
    const at::Tensor normalised = model.normalize(b.inputs);
    EXPECT_EQ(normalised.narrow(2, 20, 4).abs().max().item<float>(), 0.0f);
    EXPECT_EQ(normalised.narrow(3, 20, 8).abs().max().item<float>(), 0.0f);
    // Inside: the scene, maybe mirrored, image and label alike.
    for (int64_t k = 0; k < 3; ++k) {
      const auto s = scenes.sample(k == 1 ? 7 : 3);
      const at::Tensor img = b.inputs[k].narrow(1, 0, 20).narrow(2, 0, 20), lab = b.targets[k].narrow(0, 0, 20).narrow(1, 0, 20);
      const bool flip = !torch::equal(lab, s.label);
      flipped += flip;
      EXPECT_TRUE(torch::equal(lab, flip ? s.label.flip(1) : s.label)) << seed << " " << k;
      EXPECT_TRUE(torch::equal(img, (flip ? s.image.flip(2) : s.image).to(torch::kFloat))) << seed << " " << k;
    }
  }
  EXPECT_GT(flipped, 3);
  EXPECT_LT(flipped, 27);
  // Photometric distortion and random resizes draw from the same seed.
  const auto aug = make(seg_config("{type: segmentation}", std::string(kScenes) +
                                   ", pipeline: {scale: [40, 20], ratio_range: [0.5, 2.0], crop_size: [16, 16], "
                                   "cat_max_ratio: 0.75, flip_prob: 0.5, photometric: true}}"));
  EXPECT_TRUE(torch::equal(aug->train_batch({1, 2}, 9).inputs, aug->train_batch({1, 2}, 9).inputs));
  EXPECT_FALSE(torch::equal(aug->train_batch({1, 2}, 9).inputs, aug->train_batch({1, 2}, 10).inputs));
}

TEST(SegmentationTask, LossIsMainPlusWeightedAuxiliaryCrossEntropy) {
  const auto task = make(seg_config("{type: segmentation, aux_loss_weight: 0.4}", std::string(kScenes) + "}",
                                    ", auxiliary_head: {in_index: 2, channels: 6}"));
  auto& model = dynamic_cast<seg::SegmentorImpl&>(task->model());
  model.eval();  // no dropout: the two forwards agree
  torch::NoGradGuard no_grad;
  Batch b = task->train_batch({0, 1}, 0);
  b.targets[0][0].fill_(255);  // ignored pixels count in neither term
  const auto [main, aux] = model.forward_train(model.normalize(b.inputs));
  namespace F = torch::nn::functional;
  const auto ce = [&](const at::Tensor& logits) {
    return F::cross_entropy(logits, b.targets, F::CrossEntropyFuncOptions().ignore_index(255));
  };
  EXPECT_NEAR(task->loss(b).item<double>(), (ce(main) + 0.4 * ce(aux)).item<double>(), 1e-6);
  EXPECT_EQ(task->metric_name(), "mIoU");
}

class SegmentationFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!all_image_formats_available()) GTEST_SKIP() << "built without OpenCV";
    dir_ = make_temp_dir("vss_seg_task");
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  // Scene i of size H x W written as image + label (label + offset, 0 = "other" where offset 1).
  void write_scene(const fs::path& image, const fs::path& label, int64_t i, int64_t H, int64_t W, int64_t offset) {
    SyntheticScenesOptions o;
    o.size = 10;
    o.height = H;
    o.width = W;
    const auto s = SyntheticScenes(o).sample(i);
    fs::create_directories(image.parent_path());
    fs::create_directories(label.parent_path());
    write_image(image.string(), s.image.permute({1, 2, 0}).contiguous());
    at::Tensor stored = s.label + offset;
    if (offset == 1) stored.narrow(0, 0, 1).fill_(0);  // a row of "other"
    write_image(label.string(), stored.to(torch::kByte).unsqueeze(2).contiguous());
  }
  fs::path dir_;
};

// mIoU of the data set from image-by-image forwards, labels as `reduce` says.
double reference_miou(seg::SegmentorImpl& model, const std::vector<std::pair<fs::path, fs::path>>& files, bool reduce) {
  torch::NoGradGuard no_grad;
  model.eval();
  seg::SegMetric metric(5, 255);
  for (const auto& [image, label] : files) {
    const at::Tensor img = read_image(image.string()).permute({2, 0, 1}).unsqueeze(0);
    at::Tensor lab = read_image(label.string(), ImageMode::kUnchanged).select(2, 0).to(torch::kLong);
    if (reduce) lab = torch::where(lab == 0, torch::full_like(lab, 255), lab - 1);
    metric.add(model.forward(model.normalize(img)).argmax(1)[0], lab);
  }
  return metric.compute().miou;
}

TEST_F(SegmentationFiles, ValidationMiouOfBothLayoutsIsThatOfTheWholeSet) {
  // Three validation images of two sizes, batches of at most 2 of one size.
  std::vector<std::pair<fs::path, fs::path>> ade, masks;
  const std::vector<std::array<int64_t, 2>> sizes{{24, 24}, {24, 24}, {19, 30}};
  for (int64_t i = 0; i < 3; ++i) {
    const std::string name = "v" + std::to_string(i);
    ade.emplace_back(dir_ / "ade/images/validation" / (name + ".jpg"), dir_ / "ade/annotations/validation" / (name + ".png"));
    masks.emplace_back(dir_ / "pairs/images/val" / (name + ".png"), dir_ / "pairs/masks/val" / (name + ".png"));
    write_scene(ade.back().first, ade.back().second, i, sizes[i][0], sizes[i][1], 1);
    write_scene(masks.back().first, masks.back().second, i, sizes[i][0], sizes[i][1], 0);
  }
  write_scene(dir_ / "ade/images/training/t.jpg", dir_ / "ade/annotations/training/t.png", 5, 16, 16, 1);
  write_scene(dir_ / "pairs/images/train/t.png", dir_ / "pairs/masks/train/t.png", 5, 16, 16, 0);

  torch::manual_seed(4);
  const auto ade_task = make(seg_config("{type: segmentation, eval_batch_size: 2}",
                                        "{type: ade20k, root: " + (dir_ / "ade").string() + ", train: {}, val: {}}"));
  EXPECT_EQ(ade_task->train_size(), 1);
  // The label row of "other" is ignored, and no 0 reaches the loss as class 0.
  const Batch b = ade_task->train_batch({0}, 0);
  EXPECT_TRUE(b.targets[0][0].eq(255).all().item<bool>());
  const double ade_miou = ade_task->evaluate();
  EXPECT_NEAR(ade_miou, reference_miou(dynamic_cast<seg::SegmentorImpl&>(ade_task->model()), ade, true), 1e-12);

  torch::manual_seed(4);
  const auto mask_task = make(seg_config("{type: segmentation, eval_batch_size: 2, eval: {mode: slide, crop_size: 16, stride: 11}}",
                                         "{type: image_mask_folders, root: " + (dir_ / "pairs").string() +
                                             ", train: {split: train}, val: {split: val}}"));
  auto& model = dynamic_cast<seg::SegmentorImpl&>(mask_task->model());
  const double slide_miou = mask_task->evaluate();
  EXPECT_GE(slide_miou, 0.0);
  EXPECT_LE(slide_miou, 1.0);
  // Whole-image evaluation of the same model equals the image-by-image reference.
  const auto whole_task = make(seg_config("{type: segmentation, eval_batch_size: 2}",
                                          "{type: image_mask_folders, root: " + (dir_ / "pairs").string() +
                                              ", train: {split: train}, val: {split: val}}"));
  load_state(whole_task->model(), model_state(model), "the slide task's model");
  EXPECT_NEAR(whole_task->evaluate(), reference_miou(model, masks, false), 1e-12);
}

TEST_F(SegmentationFiles, BadConfigsNameTheirKey) {
  write_scene(dir_ / "images/a.png", dir_ / "masks/a.png", 0, 8, 8, 0);
  const std::string folders = "{type: image_mask_folders, root: " + dir_.string() + ", train: {}, val: {}";
  auto message = [&](const std::string& task, const std::string& data, const std::string& model = "") -> std::string {
    try {
      make(seg_config(task, data, model));
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message("{type: segmentation}", folders + "}"), "");
  EXPECT_NE(message("{type: segmentation}", "{type: cityscapes, train: {}, val: {}}").find("data.type"), std::string::npos);
  EXPECT_NE(message("{type: segmentation, aux_loss_weight: 0.4}", folders + "}").find("task.aux_loss_weight"), std::string::npos);
  EXPECT_NE(message("{type: segmentation}", folders + ", binary: true}").find("num_classes 5"), std::string::npos);
  EXPECT_NE(message("{type: segmentation}", "{type: image_mask_folders, root: " + (dir_ / "nope").string() +
                                                ", train: {}, val: {}}").find("data.train"),
            std::string::npos);
  EXPECT_NE(message("{type: segmentation}", folders + ", pipeline: {crop: 4}}").find("data.pipeline"), std::string::npos);
  EXPECT_NE(message("{type: segmentation, eval: {mode: tiles}}", folders + "}").find("task.eval.mode"), std::string::npos);
  EXPECT_NE(message("{type: segmentation}", "{type: synthetic_scenes, train: {size: 4, seed: 1}, val: {size: 0, seed: 2}}")
                .find("data.val.size"),
            std::string::npos);
  try {
    Config c = seg_config("{type: segmentation}", "{type: synthetic_scenes, train: {size: 4, seed: 1}, val: {size: 2, seed: 2}}");
    c.apply_override("model.num_classes=3");
    make(c);
    ADD_FAILURE() << "3 classes accepted for 5-class scenes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 5 classes but model.num_classes is 3"), std::string::npos) << e.what();
  }
  // A label value outside the classes is found when the sample is read, naming the file.
  write_image((dir_ / "masks/a.png").string(), torch::full({8, 8, 1}, 9, torch::kByte));
  const auto task = make(seg_config("{type: segmentation}", folders + "}"));
  try {
    task->train_batch({0}, 0);
    ADD_FAILURE() << "label 9 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.png: label value 9"), std::string::npos) << e.what();
  }
}

// The bundled task configs are complete for their layouts: only the data root changes.
TEST_F(SegmentationFiles, BundledConfigsBuildOnTheirLayouts) {
  write_scene(dir_ / "ade/images/training/a.jpg", dir_ / "ade/annotations/training/a.png", 0, 16, 16, 1);
  write_scene(dir_ / "ade/images/validation/b.jpg", dir_ / "ade/annotations/validation/b.png", 1, 16, 16, 1);
  Config ade = Config::load(source_dir() / "configs/seg/upernet_vmamba_tiny_ade20k_512.yaml");
  ade.apply_override("data.root=" + (dir_ / "ade").string());
  ade.apply_override("model.num_classes=5");  // the scenes' classes; the 150-class head is the same code
  EXPECT_EQ(make(ade)->train_size(), 1);
  write_scene(dir_ / "isic/images/train/a.jpg", dir_ / "isic/masks/train/a.png", 0, 16, 16, 0);
  write_scene(dir_ / "isic/images/val/b.jpg", dir_ / "isic/masks/val/b.png", 1, 16, 16, 0);
  Config unet = Config::load(source_dir() / "configs/seg/vm_unet_lesion_256.yaml");
  unet.apply_override("data.root=" + (dir_ / "isic").string());
  const auto task = make(unet);
  EXPECT_EQ(task->train_size(), 1);
  // Class ids 0..4 of the scenes become 0/1 through binary: true (>= 128 only: all 0 here).
  EXPECT_EQ(task->train_batch({0}, 0).targets.sizes(), (std::vector<int64_t>{1, 256, 256}));
  Config demo = Config::load(source_dir() / "configs/seg/shapes_seg_tiny.yaml");
  demo.apply_override("data.train.size=4");
  demo.apply_override("data.val.size=2");
  EXPECT_EQ(make(demo)->train_size(), 4);
}

NamedTensors model_tensors(const fs::path& run) {
  NamedTensors out;
  for (auto& [key, t] : read_checkpoint(run, "last").tensors)
    if (key.rfind("model.", 0) == 0) out.emplace_back(key, t);
  return out;
}

Config short_training(int64_t steps) {
  Config c = seg_config("{type: segmentation, eval_batch_size: 8}",
                        "{type: synthetic_scenes, image_size: 24, train: {size: 400, seed: 1}, val: {size: 8, seed: 2}, "
                        "pipeline: {scale: [36, 24], ratio_range: [0.75, 1.25], crop_size: [24, 24], cat_max_ratio: 0.75, "
                        "flip_prob: 0.5, photometric: true}}",
                        ", auxiliary_head: {in_index: 2, channels: 6}");
  c.apply_override("optimizer={type: adamw, lr: 0.01, weight_decay: 0.0}");
  c.apply_override("train={steps: " + std::to_string(steps) +
                   ", batch_size: 6, seed: 3, log_every: 5, eval_every: 0, checkpoint_every: 0}");
  return c;
}

TEST(SegmentationTask, ShortTrainingLowersTheLossAndResumesExactly) {
  const fs::path dir = make_temp_dir("vss_seg_train");
  TrainerOptions o;
  o.progress = false;
  o.run_dir = dir / "straight";
  const auto r = train(short_training(25), o);
  EXPECT_EQ(r.steps_done, 25);
  EXPECT_LT(r.last_loss, 0.8 * r.first_loss) << r.first_loss << " -> " << r.last_loss;
  EXPECT_TRUE(r.has_metric);
  EXPECT_GE(r.last_metric, 0.0);
  EXPECT_LE(r.last_metric, 1.0);
  o.run_dir = dir / "resumed";
  train(short_training(10), o);
  o.resume = true;
  train(short_training(25), o);
  const auto a = model_tensors(dir / "straight"), b = model_tensors(dir / "resumed");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
