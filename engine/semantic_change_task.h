#pragma once
// Training MambaSCD / AWMambaSCD semantic change detection (specs/scd.md §3): the binary
// task's joint augmentation (one crop, flips, 90° rotations, optional date swap) applied to
// both dates and the three labels, drawn from the micro-batch seed so a resumed run sees the
// same batches; MambaCD's loss (heads/change/mamba_scd.h: CE + Lovász on the change map and
// on the semantic maps with class 0 ignored, the similarity loss on unchanged pixels);
// validation metric = SeK over the whole validation set (7-class protocol,
// heads/change/semantic_change_metrics.h). YAML:
//   task: {type: semantic_change, eval_batch_size: 4, eval_tile: 0, eval_stride: 0}
//   model: {type: mamba_scd, encoder: {...}, decoder: {...}, semantic_classes: 7}
//   data: {type: second_folder, root: data/SECOND, train: train, val: test,
//          train_list: "", val_list: "", crop: 256, hflip: true, vflip: true, rotate: true, swap: false}
//   data: {type: synthetic_semantic_change, image_size: 96, regions: 1, illumination: 1, noise: 3,
//          train: {num: 20000, seed: 1}, val: {num: 64, seed: 2}, crop: 64, hflip: true, ...}
// second_folder reads either SECOND layout (datasets/second_folder.h) into memory once; the
// optional lists (ChangeMamba's train_list.txt) pick the split's names. Pairs missing a
// partner file are skipped with a warning; pairs whose change map disagrees with their
// land-cover maps are used as they are, with a warning giving the pixel count.
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_semantic_change_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
