#pragma once
// Image classification: a VSSM classifier (`model:`), cross-entropy with optional label
// smoothing, or soft-target cross-entropy on mixup / cutmix batches (timm's recipe); top-1
// accuracy on the validation split as the metric (top-5 and unreadable images logged). YAML:
//   task: {type: classification, label_smoothing: 0.1, eval_batch_size: 64,
//          normalize: centre,                                   # generated data only
//          mixup: {mixup_alpha: 0.8, cutmix_alpha: 1.0, prob: 1.0, switch_prob: 0.5},
//          pretrained: weights/vmamba_tiny.safetensors}          # fine-tuning
//   data: engine/classification_data.h (generated shapes, or image folders + pipeline)
// `pretrained` loads converted weights (an official VMamba checkpoint) into the model; only the
// classifier head may differ (another class count: it is re-initialised), any other missing,
// unexpected or mis-shaped tensor is an error naming them. model.num_classes must equal the
// data's class count. Layer-wise lr decay and the rest of the recipe are the optimizer's,
// schedule's and ema's sections (engine/trainer.h).
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_classification_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
