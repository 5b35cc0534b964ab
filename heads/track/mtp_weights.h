#pragma once
// MTP weights on disk: a bare state dict whose safetensors metadata "mtp" holds the
// architecture (YAML, the `model:` node), so a weights file is all vss-track needs
// (`vss-track export-mtp` makes one from a vss-train checkpoint).
#include "heads/track/mamba_motion_predictor.h"

#include <filesystem>
#include <string>

namespace vss::track {

// YAML text of the options (a `model:` node, type mtp).
std::string mtp_options_yaml(const MtpOptions& options);

void save_mtp(MambaMotionPredictor& model, const std::filesystem::path& file);
// Strict: no "mtp" metadata, or any missing / unexpected / mis-shaped key, is an error
// naming the file.
MambaMotionPredictor load_mtp(const std::filesystem::path& file);

}  // namespace vss::track
