#pragma once
// What MambaBCD and MambaSCD share around their decoders: the config of a siamese VSSM
// encoder with its decoder width, one encoder run over both dates, and MambaCD's input
// normalisation.
#include "backbones/vssm.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace vss {
class Config;
}

namespace vss::change {

struct ChangeModelOptions {
  VSSMOptions encoder;
  int64_t channels = 128;   // decoder width (the reference hard-codes 128)
  double drop_path = 0.1;   // of the decoders' VSS blocks
};

// The `encoder:` (a dense vssm_backbone returning every stage) and `decoder: {channels,
// drop_path}` keys of a change model node; errors name the YAML key.
ChangeModelOptions read_change_model_options(const Config& node);

struct DateFeatures {
  std::vector<at::Tensor> pre, post;  // the encoder's maps of each date, NCHW, finest first
};

// Both dates through one encoder (shared weights, as the reference's two calls). `model`
// names the caller in the error for dates of different shapes.
DateFeatures encode_dates(VSSM& encoder, const at::Tensor& pre, const at::Tensor& post, const std::string& model);

// MambaCD's input: RGB [..., 3, H, W] in 0..255 (uint8 or float) -> float32 normalised with
// the ImageNet mean (123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375).
at::Tensor normalize_input(const at::Tensor& rgb);

}  // namespace vss::change
