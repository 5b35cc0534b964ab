#include "engine/segmentation_task.h"

#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/seed.h"
#include "datasets/ade20k_folders.h"
#include "datasets/image_mask_folders.h"
#include "datasets/seg_pipeline.h"
#include "datasets/synthetic_scenes.h"
#include "heads/seg/seg_losses.h"
#include "heads/seg/seg_metrics.h"
#include "heads/seg/seg_prediction.h"
#include "heads/seg/segmentor.h"

#include <torch/torch.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace vss {
namespace {

// A layout key of one split, else of `data` (shared by both splits), else the fallback.
template <class T>
T split_or_data(const Config& split, const Config& data, const std::string& key, const T& fallback) {
  return split.has(key) ? split.get<T>(key) : data.get_or<T>(key, fallback);
}

std::shared_ptr<SegDataset> synthetic_split(const Config& data, const Config& split) {
  split.check_keys({"size", "seed"});
  SyntheticScenesOptions o;
  o.size = split.get<int64_t>("size");
  if (o.size < 1) split["size"].fail("must be >= 1 (the split is empty)");
  o.seed = static_cast<uint64_t>(split.get<int64_t>("seed"));
  if (data.has("image_size")) {
    const Config s = data["image_size"];
    const auto hw = s.is_list() ? s.as<std::vector<int64_t>>() : std::vector<int64_t>{s.as<int64_t>()};
    if (hw.empty() || hw.size() > 2 || hw[0] < 1 || hw.back() < 1) s.fail("expected N or [H, W], positive");
    o.height = hw[0];
    o.width = hw.back();
  }
  o.max_objects = data.get_or<int64_t>("max_objects", o.max_objects);
  if (o.max_objects < 1) data["max_objects"].fail("must be >= 1");
  o.noise = data.get_or<double>("noise", o.noise);
  if (!(o.noise >= 0)) data["noise"].fail("must be >= 0");
  return std::make_shared<SyntheticScenes>(o);
}

std::shared_ptr<SegDataset> ade20k_split(const Config& data, const Config& split, const std::string& name,
                                         const LabelOptions& labels) {
  split.check_keys({"root", "split", "img_dir", "ann_dir", "img_suffix", "seg_map_suffix", "reduce_zero_label"});
  Ade20kLayout layout;
  layout.root = split_or_data<std::string>(split, data, "root", "");
  if (layout.root.empty()) split.fail("needs root: the folder holding images/ and annotations/");
  layout.split = split.get_or<std::string>("split", name == "val" ? "validation" : "training");
  layout.img_dir = split_or_data<std::string>(split, data, "img_dir", "");
  layout.ann_dir = split_or_data<std::string>(split, data, "ann_dir", "");
  layout.img_suffix = split_or_data<std::string>(split, data, "img_suffix", layout.img_suffix);
  layout.seg_map_suffix = split_or_data<std::string>(split, data, "seg_map_suffix", layout.seg_map_suffix);
  layout.labels = labels;
  layout.labels.reduce_zero_label = split_or_data<bool>(split, data, "reduce_zero_label", true);
  try {
    return std::make_shared<SegFileDataset>(open_ade20k(layout));
  } catch (const Error& e) {
    split.fail(e.what());
  }
}

std::shared_ptr<SegDataset> image_mask_split(const Config& data, const Config& split, const LabelOptions& labels) {
  split.check_keys({"root", "split", "images_dir", "masks_dir", "mask_suffix", "binary", "reduce_zero_label"});
  ImageMaskLayout layout;
  layout.root = split_or_data<std::string>(split, data, "root", "");
  if (layout.root.empty()) split.fail("needs root: the folder holding images/ and masks/");
  layout.split = split.get_or<std::string>("split", "");
  layout.images_dir = split_or_data<std::string>(split, data, "images_dir", layout.images_dir);
  layout.masks_dir = split_or_data<std::string>(split, data, "masks_dir", layout.masks_dir);
  layout.mask_suffix = split_or_data<std::string>(split, data, "mask_suffix", "");
  layout.labels = labels;
  layout.labels.binary = split_or_data<bool>(split, data, "binary", false);
  layout.labels.reduce_zero_label = split_or_data<bool>(split, data, "reduce_zero_label", false);
  if (layout.labels.binary && labels.num_classes != 2)
    split.fail("binary masks give 2 classes but the model has num_classes " + std::to_string(labels.num_classes));
  try {
    return std::make_shared<SegFileDataset>(open_image_mask_folders(layout));
  } catch (const Error& e) {
    split.fail(e.what());
  }
}

std::shared_ptr<SegDataset> make_split(const Config& data, const std::string& name, const LabelOptions& labels) {
  const auto type = data.get<std::string>("type");
  std::shared_ptr<SegDataset> set;
  if (type == "synthetic_scenes") {
    data.check_keys({"type", "image_size", "max_objects", "noise", "train", "val", "pipeline"});
    set = synthetic_split(data, data[name]);
  } else if (type == "ade20k") {
    data.check_keys({"type", "root", "img_dir", "ann_dir", "img_suffix", "seg_map_suffix", "reduce_zero_label",
                     "train", "val", "pipeline"});
    set = ade20k_split(data, data[name], name, labels);
  } else if (type == "image_mask_folders") {
    data.check_keys({"type", "root", "images_dir", "masks_dir", "mask_suffix", "binary", "reduce_zero_label", "train",
                     "val", "pipeline"});
    set = image_mask_split(data, data[name], labels);
  } else {
    data["type"].fail("unknown segmentation data '" + type + "' (known: synthetic_scenes, ade20k, image_mask_folders)");
  }
  if (set->num_classes() != labels.num_classes)
    data["type"].fail(type + " has " + std::to_string(set->num_classes()) + " classes but model.num_classes is " +
                      std::to_string(labels.num_classes));
  return set;
}

class SegmentationTask : public Task {
 public:
  SegmentationTask(const Config& node, const Config& root, c10::Device device)
      : model_(seg::make_segmentor(root["model"])), device_(device) {
    node.check_keys({"type", "ignore_index", "loss", "aux_loss_weight", "eval_batch_size", "eval", "pretrained_backbone"});
    ignore_index_ = node.get_or<int64_t>("ignore_index", 255);
    loss_.emplace(node.has("loss") ? seg::SegLoss::from_config(node["loss"], ignore_index_)
                                   : seg::SegLoss({{"cross_entropy", 1.0}}, ignore_index_));
    if (model_->has_auxiliary_head()) {
      aux_loss_weight_ = node.get_or<double>("aux_loss_weight", 0.4);
      if (!(aux_loss_weight_ >= 0)) node["aux_loss_weight"].fail("must be >= 0");
    } else if (node.has("aux_loss_weight")) {
      node["aux_loss_weight"].fail("the model has no auxiliary_head");
    }
    eval_batch_size_ = node.get_or<int64_t>("eval_batch_size", 8);
    if (eval_batch_size_ < 1) node["eval_batch_size"].fail("must be >= 1");
    if (node.has("eval")) inference_ = seg::inference_options(node["eval"]);

    const Config data = root["data"];
    const LabelOptions labels{model_->num_classes(), ignore_index_, false, false};
    train_ = make_split(data, "train", labels);
    val_ = make_split(data, "val", labels);
    pipeline_.ignore_index = ignore_index_;
    if (data.has("pipeline")) pipeline_ = SegPipeline::from_config(data["pipeline"], ignore_index_);
    // Generated validation scenes are made once; files are read at each evaluation.
    if (dynamic_cast<const SyntheticScenes*>(val_.get()))
      for (int64_t i = 0; i < val_->size(); ++i) val_cache_.push_back(val_->sample(i));

    load_pretrained_backbone(model_->backbone(), node);
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return train_->size(); }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    std::vector<SegSample> samples;
    int64_t H = 0, W = 0;
    for (size_t k = 0; k < indices.size(); ++k) {
      AugmentRng rng(mix_seed(seed, k));
      samples.push_back(pipeline_.train(train_->sample(indices[k]), rng));
      H = std::max(H, samples.back().label.size(0));
      W = std::max(W, samples.back().label.size(1));
    }
    if (pipeline_.crop_size) {
      H = std::max(H, (*pipeline_.crop_size)[0]);
      W = std::max(W, (*pipeline_.crop_size)[1]);
    }
    // Padding: images with the normalisation mean (0 once normalised), labels with ignore.
    const int64_t B = static_cast<int64_t>(samples.size());
    at::Tensor images = torch::empty({B, 3, H, W}, torch::kFloat);
    const auto& mean = model_mean_;
    for (int64_t c = 0; c < 3; ++c) images.select(1, c).fill_(mean[static_cast<size_t>(c) % mean.size()]);
    at::Tensor labels = torch::full({B, H, W}, ignore_index_, torch::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const SegSample& s = samples[static_cast<size_t>(b)];
      const int64_t h = s.label.size(0), w = s.label.size(1);
      images[b].narrow(1, 0, h).narrow(2, 0, w).copy_(s.image);
      labels[b].narrow(0, 0, h).narrow(1, 0, w).copy_(s.label);
    }
    return {images, labels};
  }

  at::Tensor loss(const Batch& batch) override {
    const auto [main, aux] = model_->forward_train(model_->normalize(batch.inputs));
    at::Tensor total = (*loss_)(main, batch.targets);
    if (aux.defined() && aux_loss_weight_ > 0) total = total + aux_loss_weight_ * (*loss_)(aux, batch.targets);
    return total;
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    seg::SegMetric metric(model_->num_classes(), ignore_index_);
    std::vector<SegSample> group;
    auto flush = [&] {
      if (group.empty()) return;
      std::vector<at::Tensor> images, labels;
      for (const auto& s : group) {
        images.push_back(s.image);
        labels.push_back(s.label);
      }
      const at::Tensor pred = seg::segment_logits(*model_, torch::stack(images), pipeline_, inference_).argmax(1).cpu();
      metric.add(pred, torch::stack(labels));
      group.clear();
    };
    for (int64_t i = 0; i < val_->size(); ++i) {
      SegSample s = val_cache_.empty() ? val_->sample(i) : val_cache_[static_cast<size_t>(i)];
      if (!group.empty() && (static_cast<int64_t>(group.size()) == eval_batch_size_ ||
                             group.front().label.sizes() != s.label.sizes()))
        flush();
      group.push_back(std::move(s));
    }
    flush();
    model_->train(was_training);
    return metric.compute().miou;
  }

  std::string metric_name() const override { return "mIoU"; }

 private:
  seg::Segmentor model_;
  c10::Device device_;
  int64_t ignore_index_ = 255, eval_batch_size_ = 8;
  double aux_loss_weight_ = 0;
  std::optional<seg::SegLoss> loss_;
  seg::InferenceOptions inference_;
  SegPipeline pipeline_;
  std::shared_ptr<SegDataset> train_, val_;
  std::vector<SegSample> val_cache_;
  // Copied at construction: train_batch runs on the loader thread and must not touch the model.
  std::vector<double> model_mean_ = model_->mean();
};

}  // namespace

std::shared_ptr<Task> make_segmentation_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<SegmentationTask>(node, root, device);
}

}  // namespace vss
