#pragma once
// The official constructors' keyword arguments (a BasicSR `network_g`, a ChangeMamba model
// config, a parity case's `config`) as our `model:` node. The one place where the official
// names and defaults become ours, for
//   mambair   csguoh/MambaIR `MambaIR`                  -> type: mambair
//   mair      XLearning-SCU/2025-CVPR-MaIR `MaIR`       -> type: mair
//   mambabcd  ChenHongruixuan/MambaCD `STMambaBCD`      -> type: mamba_bcd, encoder:, decoder:
//   mambascd  ChenHongruixuan/MambaCD `STMambaSCD`      -> type: mamba_scd, the same + semantic_classes
// What changes on the way:
//   - keys the official forward ignores are dropped: the restorers' img_size, patch_size,
//     drop rates, use_checkpoint, dynamic_ids, batch_size (MaIR rebuilds its scan order for
//     any input size); STMambaBCD's pretrained (a path to ImageNet weights), num_classes (the
//     classifier is deleted) and ssm_rank_ratio (read by no layer);
//   - a key left out takes the official default where ours differs (MambaIR embed_dim 96,
//     upscale 2; MaIR ssm_ratio 1.5, upscale 2, upsampler pixelshuffledirect);
//   - the restorers' empty or null upsampler is denoising (`none`, scale 1, whatever upscale says);
//   - STMambaBCD's forward_type v3noz is our v05_noz (the same float32 computation), its
//     keywords become `encoder:`, and its decoder width, which the official code hard-codes
//     to 128, is `decoder: {channels}`; STMambaSCD's likewise, its output_clf is
//     `semantic_classes` and its output_cd must be 2 (our change head is binary).
// Every other key passes through unchanged, so our readers name what they do not support.
#include "core/config.h"

#include <cstdint>
#include <string>

namespace vss {

// `kind` is one of the four above; anything else is an error naming it.
Config official_model_config(const std::string& kind, const Config& kwargs, int64_t decoder_channels = 128);

}  // namespace vss
