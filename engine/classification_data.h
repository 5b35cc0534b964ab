#pragma once
// The two splits of a classification task, ready for the network. YAML (`data:`):
//   {type: synthetic_shapes, image_size: 32, num_classes: 4, noise: 0.1, radius: [0.25, 0.4],
//    train: {size: 2000, seed: 1}, val: {size: 400, seed: 2}}          # generated (tests, demos)
//   {type: image_folder, root: data/imagenet,
//    train: {dir: train}, val: {dir: val, labels: val_labels.txt},    # dir: default the split's name
//    pipeline: {...}}                                                  # datasets/classification_pipeline.h
// image_folder reads torchvision's ImageFolder layout, or for a split with `labels:` ImageNet's
// flat validation folder (datasets/image_folder.h); the validation split takes the training
// split's class list, so a class found only in val is an error naming its folder. An image
// that does not decode is skipped with a warning naming it (datasets/unreadable_images.h).
#include "core/config.h"
#include "datasets/augment.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vss {

class UnreadableImages;

class ClassificationSplit {
 public:
  virtual ~ClassificationSplit() = default;
  virtual int64_t size() const = 0;
  virtual int64_t label(int64_t index) const = 0;
  // float32 [3, h, w] for the network: augmented from `rng` (training) or the eval transform;
  // nothing when the image cannot be read (already warned about).
  virtual std::optional<at::Tensor> train_image(int64_t index, AugmentRng& rng) const = 0;
  virtual std::optional<at::Tensor> eval_image(int64_t index) const = 0;
};

struct ClassificationData {
  std::unique_ptr<ClassificationSplit> train, val;
  std::vector<std::string> classes;  // empty for generated data (names are the indices)
  int64_t num_classes = 0;
  std::shared_ptr<UnreadableImages> unreadable;  // shared by both splits
};

// `normalize` is the generated images' scaling (task.normalize: centre | per_image).
ClassificationData make_classification_data(const Config& data, const std::string& normalize);

}  // namespace vss
