#pragma once
// Training MambaTrack's motion predictor (heads.md §4): samples are every window of
// history + 2 consecutive boxes of every ground-truth track (history differences in, the
// next difference out, all normalised by the image size and scaled); Smooth-L1 loss on the
// scaled differences; validation metric = mean IoU of the predicted next box with the true
// one. YAML:
//   task: {type: motion, eval_batch_size: 1024}
//   model: {type: mtp, d_model: 64, num_layers: 2, ...}          # heads/track/mamba_motion_predictor.h
//   data: {type: synthetic_mot, input_noise: 0.03, train: {sequences: 12, seed: 1, frames: 300, objects: 10}, val: {...}}
// input_noise σ jitters the input boxes as a detector does (the target stays the true next
// box), in training and, with one fixed draw, in validation; 0 (default) = clean gt.
//   data: {type: mot, train: {dir: dancetrack/train, seqmap: ...}, val: {dir: dancetrack/val}}
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_motion_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
