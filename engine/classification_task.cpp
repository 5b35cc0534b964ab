// Image classification: a VSSM classifier, cross-entropy with optional label smoothing,
// top-1 accuracy on the validation split.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "datasets/synthetic_shapes.h"
#include "engine/classification_task.h"

#include <torch/torch.h>

namespace vss {
namespace {

SyntheticShapes make_split(const Config& data, const std::string& split) {
  data.check_keys({"type", "image_size", "num_classes", "noise", "radius", "train", "val"});
  const auto type = data.get<std::string>("type");
  if (type != "synthetic_shapes") data["type"].fail("unknown dataset '" + type + "' (known: synthetic_shapes)");
  const Config node = data[split];
  node.check_keys({"size", "seed"});
  SyntheticShapesOptions o;
  o.size = node.get<int64_t>("size");
  o.seed = static_cast<uint64_t>(node.get<int64_t>("seed"));
  o.image_size = data.get_or<int64_t>("image_size", o.image_size);
  o.num_classes = data.get_or<int64_t>("num_classes", o.num_classes);
  o.noise = data.get_or<double>("noise", o.noise);
  if (data.has("radius")) {
    const auto r = data.get<std::vector<double>>("radius");
    if (r.size() != 2) data["radius"].fail("expected [min, max] fractions of image_size");
    o.min_radius = r[0];
    o.max_radius = r[1];
  }
  if (o.size < 1) node["size"].fail("must be >= 1 (the " + split + " split is empty)");
  return SyntheticShapes(o);
}

// How images are scaled before the network: `centre` subtracts 0.5 (the generator's colours
// are uniform in [0, 1]); `per_image` takes each channel of each image to mean 0, std 1
// (instance normalisation), so that a shape in two colours that differ little is as
// visible as one in contrasting colours.
at::Tensor stack_images(const SyntheticShapes& set, const std::vector<int64_t>& indices, bool per_image) {
  std::vector<at::Tensor> images;
  images.reserve(indices.size());
  for (int64_t i : indices) images.push_back(set.image(i));
  const at::Tensor batch = torch::stack(images);
  if (!per_image) return batch - 0.5;
  const at::Tensor mean = batch.mean({2, 3}, true);
  const at::Tensor std = batch.std({2, 3}, /*unbiased=*/false, true);
  return (batch - mean) / (std + 1e-3);
}

class ClassificationTask : public Task {
 public:
  ClassificationTask(const Config& node, const Config& root, c10::Device device)
      : train_(make_split(root["data"], "train")), val_(make_split(root["data"], "val")), device_(device) {
    node.check_keys({"type", "label_smoothing", "eval_batch_size", "normalize"});
    const auto normalize = node.get_or<std::string>("normalize", "centre");
    if (normalize != "centre" && normalize != "per_image")
      node["normalize"].fail("unknown normalisation '" + normalize + "' (known: centre, per_image)");
    per_image_ = normalize == "per_image";
    label_smoothing_ = node.get_or<double>("label_smoothing", 0.0);
    if (label_smoothing_ < 0 || label_smoothing_ >= 1) node["label_smoothing"].fail("must be in [0, 1)");
    eval_batch_size_ = node.get_or<int64_t>("eval_batch_size", 64);
    model_ = std::dynamic_pointer_cast<VSSM>(make_backbone(root["model"]));
    if (!model_ || model_->is_dense_backbone()) root["model"]["type"].fail("classification needs a 'vssm' classifier");
    if (model_->options().num_classes != train_.num_classes())
      root["model"]["num_classes"].fail("is " + std::to_string(model_->options().num_classes) +
                                        " but the data set has " + std::to_string(train_.num_classes()) + " classes");
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return train_.size(); }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t /*seed*/) const override {
    std::vector<int64_t> labels;
    for (int64_t i : indices) labels.push_back(train_.label(i));
    return {stack_images(train_, indices, per_image_), torch::tensor(labels, torch::kInt64)};
  }

  at::Tensor loss(const Batch& batch) override {
    return torch::nn::functional::cross_entropy(
        model_->forward(batch.inputs),
        batch.targets, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(label_smoothing_));
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    int64_t correct = 0;
    for (int64_t start = 0; start < val_.size(); start += eval_batch_size_) {
      std::vector<int64_t> indices;
      for (int64_t i = start; i < std::min(val_.size(), start + eval_batch_size_); ++i) indices.push_back(i);
      std::vector<int64_t> labels;
      for (int64_t i : indices) labels.push_back(val_.label(i));
      const at::Tensor predicted = model_->forward(stack_images(val_, indices, per_image_).to(device_)).argmax(1).cpu();
      correct += predicted.eq(torch::tensor(labels, torch::kInt64)).sum().item<int64_t>();
    }
    model_->train(was_training);
    return static_cast<double>(correct) / static_cast<double>(val_.size());
  }

  std::string metric_name() const override { return "top1"; }

 private:
  SyntheticShapes train_, val_;
  c10::Device device_;
  double label_smoothing_ = 0;
  bool per_image_ = false;
  int64_t eval_batch_size_ = 64;
  std::shared_ptr<VSSM> model_;
};

}  // namespace

std::shared_ptr<Task> make_classification_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<ClassificationTask>(node, root, device);
}

}  // namespace vss
