#include "engine/classification_task.h"

#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/error.h"
#include "core/log.h"
#include "core/seed.h"
#include "datasets/mixup_cutmix.h"
#include "datasets/unreadable_images.h"
#include "engine/classification_data.h"
#include "heads/classify/topk_accuracy.h"

#include <torch/torch.h>

#include <optional>

namespace vss {
namespace {

class ClassificationTask : public Task {
 public:
  ClassificationTask(const Config& node, const Config& root, c10::Device device) : device_(device) {
    node.check_keys({"type", "label_smoothing", "eval_batch_size", "normalize", "mixup", "pretrained"});
    const auto normalize = node.get_or<std::string>("normalize", "centre");
    if (normalize != "centre" && normalize != "per_image")
      node["normalize"].fail("unknown normalisation '" + normalize + "' (known: centre, per_image)");
    label_smoothing_ = node.get_or<double>("label_smoothing", 0.0);
    if (label_smoothing_ < 0 || label_smoothing_ >= 1) node["label_smoothing"].fail("must be in [0, 1)");
    eval_batch_size_ = node.get_int_in_or("eval_batch_size", 64, 1, 1 << 16);
    if (node.has("mixup")) mixup_ = MixupCutmix::from_config(node["mixup"]);
    data_ = make_classification_data(root["data"], normalize);
    model_ = std::dynamic_pointer_cast<VSSM>(make_backbone(root["model"]));
    if (!model_ || model_->is_dense_backbone()) root["model"]["type"].fail("classification needs a 'vssm' classifier");
    if (model_->options().num_classes != data_.num_classes)
      root["model"]["num_classes"].fail("is " + std::to_string(model_->options().num_classes) +
                                        " but the data set has " + std::to_string(data_.num_classes) + " classes");
    if (node.has("pretrained")) load_pretrained(node["pretrained"]);
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return data_.train->size(); }
  std::vector<std::string> class_names() const override { return data_.classes; }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    std::vector<at::Tensor> images;
    std::vector<int64_t> labels;
    const int64_t n = data_.train->size();
    for (size_t k = 0; k < indices.size(); ++k) {
      // An unreadable image (warned about once) gives way to the next one in the split.
      for (int64_t tries = 0, i = indices[k];; ++tries, i = (i + 1) % n) {
        if (tries == n) throw Error("no training image could be read (" + std::to_string(n) + " tried)");
        AugmentRng rng(mix_seed(seed, k));
        if (auto image = data_.train->train_image(i, rng)) {
          images.push_back(*image);
          labels.push_back(data_.train->label(i));
          break;
        }
      }
    }
    at::Tensor inputs = torch::stack(images);
    at::Tensor targets = torch::tensor(labels, torch::kInt64);
    if (mixup_) {
      AugmentRng rng(mix_seed(seed, indices.size()));  // after the samples' streams
      const MixDraw draw = mixup_->draw(inputs.size(2), inputs.size(3), rng);
      std::tie(inputs, targets) = mix_batch(inputs, targets, data_.num_classes, label_smoothing_, draw);
    }
    return {inputs, targets};
  }

  at::Tensor loss(const Batch& batch) override {
    const at::Tensor logits = model_->forward(batch.inputs);
    namespace F = torch::nn::functional;
    // Soft targets (mixup / cutmix) already hold the smoothing: timm's SoftTargetCrossEntropy.
    if (batch.targets.dim() == 2) return F::cross_entropy(logits, batch.targets);
    return F::cross_entropy(logits, batch.targets, F::CrossEntropyFuncOptions().label_smoothing(label_smoothing_));
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    TopkAccuracy accuracy(data_.num_classes);
    const ClassificationSplit& val = *data_.val;
    for (int64_t start = 0; start < val.size(); start += eval_batch_size_) {
      std::vector<at::Tensor> images;
      std::vector<int64_t> labels;
      for (int64_t i = start; i < std::min(val.size(), start + eval_batch_size_); ++i)
        if (auto image = val.eval_image(i)) {
          images.push_back(*image);
          labels.push_back(val.label(i));
        }
      if (images.empty()) continue;
      accuracy.add(model_->forward(torch::stack(images).to(device_)), torch::tensor(labels, torch::kInt64));
    }
    model_->train(was_training);
    if (accuracy.count() == 0) throw Error("no validation image could be read (" + std::to_string(val.size()) + ")");
    log::info("validation: top1 ", accuracy.top1(), " top5 ", accuracy.top5(), " on ", accuracy.count(), " images",
              data_.unreadable->count() ? ", " + std::to_string(data_.unreadable->count()) + " unreadable skipped" : "");
    return accuracy.top1();
  }

  std::string metric_name() const override { return "top1"; }

 private:
  void load_pretrained(const Config& node) {
    const std::string file = node.as<std::string>();
    WeightLoadReport r;
    try {
      r = load_weights(*model_, file, WeightMatch::kOtherHead);
    } catch (const Error& e) {
      node.fail(e.what());
    }
    std::string head;
    for (const auto* keys : {&r.mismatched, &r.missing})
      for (const auto& key : *keys) head += (head.empty() ? "" : ", ") + key;
    log::info("fine-tuning from ", file, head.empty() ? " (every tensor loaded)" : "; new classifier head: " + head);
  }

  ClassificationData data_;
  c10::Device device_;
  double label_smoothing_ = 0;
  int64_t eval_batch_size_ = 64;
  std::optional<MixupCutmix> mixup_;
  std::shared_ptr<VSSM> model_;
};

}  // namespace

std::shared_ptr<Task> make_classification_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<ClassificationTask>(node, root, device);
}

}  // namespace vss
