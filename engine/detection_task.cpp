// The detection training task (see detection_task.h).
#include "engine/detection_task.h"

#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/seed.h"
#include "datasets/coco_image_dataset.h"
#include "datasets/detection_pipeline.h"
#include "datasets/mot_frame_dataset.h"
#include "datasets/rendered_mot_dataset.h"
#include "heads/detect/centernet.h"
#include "heads/detect/centernet_targets.h"
#include "heads/detect/coco_eval.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

namespace vss {
namespace {

namespace fs = std::filesystem;

// Relative paths in a config are relative to the working directory, as elsewhere.
std::vector<fs::path> mot_sequence_dirs(const Config& split) {
  std::vector<fs::path> dirs;
  if (split.has("sequences"))
    for (const auto& s : split.get<std::vector<std::string>>("sequences")) dirs.emplace_back(s);
  if (split.has("data")) {
    const fs::path root = split.get<std::string>("data");
    if (!fs::is_directory(root)) split["data"].fail("not a directory: " + root.string());
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(root))
      if (fs::exists(e.path() / "seqinfo.ini")) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    if (found.empty()) split["data"].fail("no <seq>/seqinfo.ini under " + root.string());
    dirs.insert(dirs.end(), found.begin(), found.end());
  }
  if (dirs.empty()) split.fail("needs sequences: [DIR, ...] or data: DIR");
  return dirs;
}

std::shared_ptr<DetectionDataset> make_split(const Config& data, const std::string& name) {
  const auto type = data.get<std::string>("type");
  const Config split = data[name];
  try {
    if (type == "rendered_mot") {
      data.check_keys({"type", "width", "height", "objects", "train", "val", "pipeline"});
      split.check_keys({"sequences", "frames", "seed"});
      RenderedMotOptions o;
      o.width = data.get_int_in_or("width", o.width, 64, 8192);
      o.height = data.get_int_in_or("height", o.height, 64, 8192);
      o.objects = data.get_int_in_or("objects", o.objects, 0, 4096);
      o.sequences = split.get_int_in_or("sequences", o.sequences, 1, 1 << 20);
      o.frames = split.get_int_in_or("frames", o.frames, 1, 1 << 20);
      o.seed = static_cast<uint64_t>(split.get<int64_t>("seed"));
      return std::make_shared<RenderedMotDataset>(o);
    }
    if (type == "mot_frames") {
      data.check_keys({"type", "min_visibility", "frame_step", "train", "val", "pipeline"});
      split.check_keys({"sequences", "data"});
      MotFrameOptions o;
      o.min_visibility = data.get_or<double>("min_visibility", 0.0);
      if (!(o.min_visibility >= 0 && o.min_visibility <= 1)) data["min_visibility"].fail("must be in [0, 1]");
      o.frame_step = data.get_int_in_or("frame_step", 1, 1, 1 << 20);
      return std::make_shared<MotFrameDataset>(mot_sequence_dirs(split), o);
    }
    if (type == "coco") {
      data.check_keys({"type", "train", "val", "pipeline"});
      split.check_keys({"instances", "images"});
      return std::make_shared<CocoImageDataset>(split.get<std::string>("instances"), split.get<std::string>("images"));
    }
  } catch (const Error& e) {
    split.fail(e.what());
  }
  data["type"].fail("unknown detection data '" + type + "' (known: rendered_mot, mot_frames, coco)");
}

class DetectionTask : public Task {
 public:
  DetectionTask(const Config& node, const Config& root, c10::Device device)
      : model_(detect::make_centernet(root["model"])), device_(device) {
    node.check_keys({"type", "loss_weights", "eval_batch_size", "pretrained_backbone"});
    if (node.has("loss_weights")) {
      const Config w = node["loss_weights"];
      w.check_keys({"hm", "wh", "off"});
      weights_.hm = w.get_or<double>("hm", weights_.hm);
      weights_.wh = w.get_or<double>("wh", weights_.wh);
      weights_.off = w.get_or<double>("off", weights_.off);
      if (!(weights_.hm >= 0 && weights_.wh >= 0 && weights_.off >= 0)) w.fail("weights must be >= 0");
    }
    eval_batch_size_ = node.get_int_in_or("eval_batch_size", 8, 1, 4096);
    const Config data = root["data"];
    train_ = make_split(data, "train");
    val_ = make_split(data, "val");
    for (const auto* set : {&train_, &val_})
      if ((*set)->num_classes() != model_->options().num_classes)
        data["type"].fail(data.get<std::string>("type") + " data has " + std::to_string((*set)->num_classes()) +
                          " classes but model.num_classes is " + std::to_string(model_->options().num_classes));
    if (data.has("pipeline")) pipeline_ = DetPipeline::from_config(data["pipeline"]);
    if (dynamic_cast<const RenderedMotDataset*>(val_.get()))
      for (int64_t i = 0; i < val_->size(); ++i) val_cache_.push_back(val_->sample(i));
    load_pretrained_backbone(model_->backbone(), node);
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return train_->size(); }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    const int64_t B = static_cast<int64_t>(indices.size());
    const int64_t H = pipeline_.input_size[0], W = pipeline_.input_size[1];
    const int64_t C = num_classes_;
    at::Tensor images = torch::empty({B, 3, H, W}, torch::kFloat);
    for (int64_t c = 0; c < 3; ++c) images.select(1, c).fill_(mean_[static_cast<size_t>(c) % mean_.size()]);
    at::Tensor targets = torch::empty({B, C + 5, H / 4, W / 4}, torch::kFloat);
    for (int64_t b = 0; b < B; ++b) {
      AugmentRng rng(mix_seed(seed, static_cast<uint64_t>(b)));
      const DetSample s = pipeline_.train(train_->sample(indices[static_cast<size_t>(b)]), rng);
      images[b].narrow(1, 0, s.image.size(1)).narrow(2, 0, s.image.size(2)).copy_(s.image);
      targets[b].copy_(detect::centernet_targets(s.boxes, s.classes, C, H / 4, W / 4));
    }
    return {images, targets};
  }

  at::Tensor loss(const Batch& batch) override {
    return detect::centernet_loss(model_->forward(model_->normalize(batch.inputs)), batch.targets, weights_).total;
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    coco::Instances gt;
    for (int64_t k = 0; k < num_classes_; ++k) gt.categories.push_back({k + 1, "class" + std::to_string(k)});
    std::vector<coco::Result> results;
    std::vector<DetSample> group;
    std::vector<int64_t> ids;
    auto flush = [&] {
      if (group.empty()) return;
      std::vector<at::Tensor> images;
      for (const auto& s : group) images.push_back(s.image.permute({2, 0, 1}));
      const auto dets = model_->detect(torch::stack(images).to(device_));
      for (size_t i = 0; i < group.size(); ++i)
        for (const auto& d : dets[i])
          results.push_back({ids[i], d.cls + 1, d.x1, d.y1, d.x2 - d.x1, d.y2 - d.y1, d.score});
      group.clear();
      ids.clear();
    };
    for (int64_t i = 0; i < val_->size(); ++i) {
      DetSample s = val_cache_.empty() ? val_->sample(i) : val_cache_[static_cast<size_t>(i)];
      gt.images.push_back({i + 1, s.name, s.image.size(1), s.image.size(0)});
      for (int64_t k = 0; k < s.boxes.size(0); ++k) {
        const auto b = s.boxes[k];
        const double x1 = b[0].item<double>(), y1 = b[1].item<double>(), x2 = b[2].item<double>(), y2 = b[3].item<double>();
        gt.annotations.push_back({static_cast<int64_t>(gt.annotations.size()) + 1, i + 1, s.classes[k].item<int64_t>() + 1,
                                  x1, y1, x2 - x1, y2 - y1, (x2 - x1) * (y2 - y1), false});
      }
      if (!group.empty() &&
          (static_cast<int64_t>(group.size()) == eval_batch_size_ || group.front().image.sizes() != s.image.sizes()))
        flush();
      group.push_back(std::move(s));
      ids.push_back(i + 1);
    }
    flush();
    model_->train(was_training);
    return detect::coco_evaluate(gt, results).combined.ap;
  }

  std::string metric_name() const override { return "AP"; }

 private:
  detect::CenterNet model_;
  c10::Device device_;
  detect::CenterNetLossWeights weights_;
  int64_t eval_batch_size_ = 8;
  DetPipeline pipeline_;
  std::shared_ptr<DetectionDataset> train_, val_;
  std::vector<DetSample> val_cache_;
  // Copied at construction: train_batch runs on the loader thread and must not touch the model.
  std::vector<double> mean_ = model_->options().mean;
  int64_t num_classes_ = model_->options().num_classes;
};

}  // namespace

std::shared_ptr<Task> make_detection_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<DetectionTask>(node, root, device);
}

}  // namespace vss
