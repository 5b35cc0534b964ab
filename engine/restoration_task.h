#pragma once
// Restoration training (MambaIR / MaIR, heads.md §1) as BasicSR's SRModel trains: random
// paired crops (gt_size HR pixels and gt_size / scale LR pixels at the same place), flips and
// 90° rotations drawn from the micro-batch seed (a resumed run sees the same batches), L1 or
// Charbonnier loss; validation PSNR on whole images after tensor2img quantisation (Y with
// crop_border = scale for SR, RGB without a crop for denoising / JPEG; conventions.md §2.1).
// YAML:
//   task:
//     type: restoration
//     gt_size: 96                                # HR patch side, a multiple of the scale
//     degradation: {type: bicubic, scale: 2}     # | {type: noise, sigma: 25} | {type: jpeg, quality: 40}
//     loss: {type: l1}                           # | {type: charbonnier, eps: 1.0e-12} (BasicSR: sqrt(d² + eps))
//     use_hflip: true                            # BasicSR's augment(hflip, rotation)
//     use_rot: true
//     metrics: {crop_border: 2, test_y_channel: true}   # default from the degradation (above)
//     val_seed: 0                                # noise seed of every validation image (KAIR: 0)
//     val_tile: 0                                # validate tile by tile (heads/restore/tiled_inference.h)
//     val_tile_overlap: 32
//   model: {type: mambair, upscale: 2, ...}      # heads/restore/restoration_net.h
//   data:
//     bank: data/restore.safetensors             # optional: gt / lq name folders inside it
//     train: {gt: DIR, lq: DIR, filename_tmpl: '{}x2', repeat: 1}
//     val: {gt: DIR, lq: DIR, filename_tmpl: '{}x2'}
// Without `lq` the input is made from the GT: MATLAB bicubic of GTmod for SR (once, at load),
// the noise / JPEG degradation on each training crop and, seeded, on each validation image.
// Images are converted to the model's channels (grey replicated for RGB models; alpha dropped).
#include "engine/task.h"

namespace vss {

std::shared_ptr<Task> make_restoration_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
