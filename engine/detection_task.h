#pragma once
// Training a CenterNet detector (heads/detect/centernet.h) on images with boxes: the pipeline
// (datasets/detection_pipeline.h: scale jitter, crop, flip, colour) drawn from the micro-batch
// seed, so a resumed run sees the same batches; images padded to the pipeline's input_size with
// the mean colour (0 after normalising); targets are CenterNet's dense maps; loss = focal +
// 0.1·size L1 + offset L1 (CenterNet's weights); validation metric = COCO AP of the val split
// (heads/detect/coco_eval.h, as pycocotools). YAML:
//   task: {type: detection, loss_weights: {hm: 1, wh: 0.1, off: 1}, eval_batch_size: 8,
//          pretrained_backbone: weights/vssm1_tiny_0230s.safetensors}
//   model: {type: centernet, num_classes: 1, ...}
//   data: {type: rendered_mot, width: 320, height: 192, objects: 8,
//          train: {sequences: 8, frames: 60, seed: 1}, val: {sequences: 1, frames: 20, seed: 2},
//          pipeline: {input_size: [192, 320], scale_range: [0.6, 1.4], flip_prob: 0.5, photometric: true}}
//   data: {type: mot_frames, min_visibility: 0.0, frame_step: 1,
//          train: {sequences: [data/MOT17/train/MOT17-02-FRCNN, ...]} | {data: data/MOT17/train},
//          val: {...}, pipeline: {...}}
//   data: {type: coco, train: {instances: ann/train.json, images: images/train}, val: {...}, pipeline: {...}}
// The number of classes is the model's and must equal the data's.
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_detection_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
