#pragma once
// Image classification: a VSSM classifier (`model:`), cross-entropy with optional label
// smoothing, top-1 accuracy on the validation split. YAML:
//   task: {type: classification, label_smoothing: 0.1, eval_batch_size: 64}
//   data: {type: synthetic_shapes, image_size: 32, num_classes: 4, noise: 0.1,
//          train: {size: 2000, seed: 1}, val: {size: 400, seed: 2}}
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_classification_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
