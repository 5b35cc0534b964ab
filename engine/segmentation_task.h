#pragma once
// Training a segmentor (heads/seg/segmentor.h: UPerNet / FPN / VM-UNet) as mmseg does:
// the train pipeline (datasets/seg_pipeline.h) drawn from the micro-batch seed, so a resumed
// run sees the same batches; batches padded to the crop size (images with 0 after
// normalising, labels with ignore_index); loss = the decode head's loss list + aux_loss_weight
// x the same loss on the auxiliary FCN head; validation metric = mIoU (mmseg's IoUMetric over
// the whole validation split, as a fraction) with whole or sliding-window inference. YAML:
//   task: {type: segmentation, ignore_index: 255, loss: [{type: cross_entropy, weight: 1.0}],
//          aux_loss_weight: 0.4, eval_batch_size: 8, eval: {mode: slide, crop_size: 512, stride: 341},
//          pretrained_backbone: weights/vssm1_tiny_0230s.safetensors}
//   model: {type: upernet | fpn | vm_unet, num_classes: 150, ...}          # heads/seg/segmentor.h
//   data: {type: synthetic_scenes, image_size: 64, max_objects: 6, noise: 6,
//          train: {size: 20000, seed: 1}, val: {size: 100, seed: 2}, pipeline: {flip_prob: 0.5}}
//   data: {type: ade20k, root: data/ade/ADEChallengeData2016, reduce_zero_label: true,
//          train: {split: training}, val: {split: validation}, pipeline: {...}}
//   data: {type: image_mask_folders, root: data/isic2018, binary: true, mask_suffix: "",
//          train: {split: train}, val: {split: val}, pipeline: {...}}
// Layout keys (root, img_dir, ann_dir, img_suffix, seg_map_suffix, reduce_zero_label; root,
// images_dir, masks_dir, mask_suffix, binary) may sit in `data` (both splits) or in a split.
// The number of classes is the model's. pretrained_backbone loads converted backbone weights
// (e.g. an ImageNet VMamba checkpoint) by name, non-strictly (the classifier is left out).
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_segmentation_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
