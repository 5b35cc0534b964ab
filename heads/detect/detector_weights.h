#pragma once
// Self-describing detector weights for vss-detect / vss-track --detector: a safetensors file
// whose metadata "detector" holds the model's YAML (`model:` of the training config), so the
// file alone rebuilds the network. Written by `vss-detect export` from a vss-train run.
#include "heads/detect/centernet.h"

#include <filesystem>
#include <string>

namespace vss::detect {

void save_detector(CenterNet& model, const std::string& model_yaml, const std::filesystem::path& file);

// The network from the file's metadata, or from `model_config` (a YAML file holding `model:`,
// or a model node itself) when given: then every tensor must match that config's network, and
// a mismatch is one error naming the weights file, the keys and both shapes.
CenterNet load_detector(const std::filesystem::path& file, const std::filesystem::path& model_config = {});

}  // namespace vss::detect
