#pragma once
// Training MambaBCD / AWMambaBCD binary change detection (heads.md §3): joint augmentation of
// both dates and the label (one random crop, flips, 90° rotations and an optional date swap,
// datasets/change_pair.h) drawn from the micro-batch seed, so a resumed run sees the same
// batches; loss CE + 0.75 Lovász-softmax; validation metric = F1 of the changed class over the
// confusion matrix of the whole validation set (conventions.md §3.4). YAML:
//   task: {type: change, eval_batch_size: 4, eval_tile: 0, eval_stride: 0}   # tile 0: whole images
//   model: {type: mamba_bcd, encoder: {...}, decoder: {...}}                # heads/change/mamba_bcd.h
//   data: {type: change_folder, root: data/LEVIR-CD, train: train, val: val,
//          crop: 256, hflip: true, vflip: true, rotate: true, swap: false}
//   data: {type: synthetic_change, image_size: 96, train: {num: 20000, seed: 1}, val: {num: 100, seed: 2},
//          buildings: 1, change: 1, distractors: {illumination: 1, misregistration: 1.5, noise: 3,
//          seasonal: 1, shadows: true, vehicles: true}, crop: 64, hflip: true, ...}
// change_folder reads the LEVIR-CD / WHU-CD or BIT_CD layout (datasets/change_folder.h) into
// memory once (about 7 MB per 1024² pair); pairs missing a partner file are skipped with a
// warning. synthetic_change makes training pairs on the fly from (seed, index).
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_change_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
