#include "engine/classification_data.h"

#include "core/error.h"
#include "datasets/classification_pipeline.h"
#include "datasets/image_folder.h"
#include "datasets/synthetic_shapes.h"
#include "datasets/unreadable_images.h"

#include <ATen/ATen.h>

namespace vss {
namespace {

namespace fs = std::filesystem;

// How generated images are scaled before the network: `centre` subtracts 0.5 (the
// generator's colours are uniform in [0, 1]); `per_image` takes each channel of each image to
// mean 0, std 1 (instance normalisation), so that a shape in two colours that differ little
// is as visible as one in contrasting colours.
class ShapesSplit : public ClassificationSplit {
 public:
  ShapesSplit(const SyntheticShapesOptions& options, bool per_image) : set_(options), per_image_(per_image) {}
  int64_t size() const override { return set_.size(); }
  int64_t label(int64_t index) const override { return set_.label(index); }
  std::optional<at::Tensor> train_image(int64_t index, AugmentRng&) const override { return eval_image(index); }
  std::optional<at::Tensor> eval_image(int64_t index) const override {
    const at::Tensor image = set_.image(index);
    if (!per_image_) return image - 0.5;
    const at::Tensor mean = image.mean({1, 2}, true);
    const at::Tensor std = image.std({1, 2}, /*unbiased=*/false, true);
    return (image - mean) / (std + 1e-3);
  }

 private:
  SyntheticShapes set_;
  bool per_image_;
};

class FolderSplit : public ClassificationSplit {
 public:
  FolderSplit(LabelledImages images, const ClassificationPipeline& pipeline, std::shared_ptr<UnreadableImages> unreadable)
      : images_(std::move(images)), pipeline_(pipeline), unreadable_(std::move(unreadable)) {}
  int64_t size() const override { return images_.size(); }
  int64_t label(int64_t index) const override { return images_.labels[static_cast<size_t>(index)]; }
  std::optional<at::Tensor> train_image(int64_t index, AugmentRng& rng) const override {
    const auto image = unreadable_->read_rgb(images_.paths[static_cast<size_t>(index)]);
    if (!image) return std::nullopt;
    return pipeline_.train(*image, rng);
  }
  std::optional<at::Tensor> eval_image(int64_t index) const override {
    const auto image = unreadable_->read_rgb(images_.paths[static_cast<size_t>(index)]);
    if (!image) return std::nullopt;
    return pipeline_.eval(*image);
  }

 private:
  LabelledImages images_;
  ClassificationPipeline pipeline_;
  std::shared_ptr<UnreadableImages> unreadable_;
};

SyntheticShapesOptions shapes_options(const Config& data, const std::string& split) {
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
  return o;
}

LabelledImages open_folder_split(const Config& data, const std::string& split, const std::vector<std::string>& classes) {
  const Config node = data[split];
  node.check_keys({"dir", "labels"});
  const fs::path root = data.get<std::string>("root");
  const fs::path dir = root / node.get_or<std::string>("dir", split);
  try {
    if (node.has("labels")) return open_labelled_folder(dir, root / node.get<std::string>("labels"), classes);
    return open_image_folder(dir, classes);
  } catch (const Error& e) {
    node.fail(e.what());
  }
}

}  // namespace

ClassificationData make_classification_data(const Config& data, const std::string& normalize) {
  ClassificationData out;
  out.unreadable = std::make_shared<UnreadableImages>();
  const auto type = data.get<std::string>("type");
  if (type == "synthetic_shapes") {
    data.check_keys({"type", "image_size", "num_classes", "noise", "radius", "train", "val"});
    const bool per_image = normalize == "per_image";
    const auto train = shapes_options(data, "train");
    out.train = std::make_unique<ShapesSplit>(train, per_image);
    out.val = std::make_unique<ShapesSplit>(shapes_options(data, "val"), per_image);
    out.num_classes = train.num_classes;
  } else if (type == "image_folder") {
    data.check_keys({"type", "root", "train", "val", "pipeline"});
    const ClassificationPipeline pipeline =
        data.has("pipeline") ? ClassificationPipeline::from_config(data["pipeline"]) : ClassificationPipeline{};
    LabelledImages train = open_folder_split(data, "train", {});
    out.classes = train.classes;
    LabelledImages val = open_folder_split(data, "val", out.classes);
    out.train = std::make_unique<FolderSplit>(std::move(train), pipeline, out.unreadable);
    out.val = std::make_unique<FolderSplit>(std::move(val), pipeline, out.unreadable);
    out.num_classes = static_cast<int64_t>(out.classes.size());
  } else {
    data["type"].fail("unknown classification data '" + type + "' (known: synthetic_shapes, image_folder)");
  }
  return out;
}

}  // namespace vss
