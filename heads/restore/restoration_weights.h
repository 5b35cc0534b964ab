#pragma once
// Restoration weights on disk: the network's state dict under the official key names, in
// safetensors. Files vsskit writes also carry their config in the metadata entry "restore"
// (YAML with model:, degradation:, metrics:), so `vss-restore --weights FILE` needs no
// --config; official checkpoints converted by tools/convert_pth.py have none (give --config).
//
// The layout a state dict was trained for is read from its tensor shapes, so weights for
// another scale, channel count or width are refused with an error that says what they are,
// instead of a list of mismatched keys.
#include "heads/restore/restoration_net.h"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vss::restore {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct RestorationLayout {
  int64_t in_chans = 0, embed_dim = 0, scale = 1;
  std::string upsampler;  // pixelshuffle | pixelshuffledirect | none
  std::string evidence;   // the tensor the scale was read from, with its shape
};

// Error naming `source` when the tensors are not a MambaIR / MaIR state dict.
RestorationLayout layout_from_state(const NamedTensors& state, const std::string& source);
// Error naming `source`, the evidence and both values when the weights do not fit `options`
// ("weights are for x4 (upsample.0.weight [48, 60, 3, 3]) but the config builds x2").
void check_layout(const RestorationNetOptions& options, const RestorationLayout& layout, const std::string& source);

// The metadata config of a weights file, if it has one.
std::optional<std::string> restore_metadata(const std::filesystem::path& file);
// The config to store: `model` plus the optional degradation / metrics nodes, as YAML.
std::string restore_config_yaml(const Config& model, const Config* degradation, const Config* metrics);
void save_restoration_weights(const RestorationNetImpl& net, const std::string& config_yaml,
                              const std::filesystem::path& file);
// Checks the layout, then loads strictly (every key, every shape).
void load_restoration_weights(RestorationNetImpl& net, const NamedTensors& state, const std::string& source);

}  // namespace vss::restore
