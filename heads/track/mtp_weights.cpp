#include "heads/track/mtp_weights.h"

#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/safetensors.h"

#include <sstream>

namespace vss::track {
namespace {

constexpr char kMetadataKey[] = "mtp";

}  // namespace

std::string mtp_options_yaml(const MtpOptions& o) {
  std::ostringstream s;
  s.precision(17);
  s << "{type: mtp, d_model: " << o.mamba.d_model << ", d_state: " << o.mamba.d_state << ", d_conv: " << o.mamba.d_conv
    << ", expand: " << o.mamba.expand << ", dt_rank: " << o.mamba.resolved_dt_rank() << ", num_layers: " << o.num_layers
    << ", mlp_hidden: " << o.mlp_hidden << ", head_hidden: " << o.head_hidden << ", history: " << o.history
    << ", scale: " << o.scale << "}";
  return s.str();
}

void save_mtp(MambaMotionPredictor& model, const std::filesystem::path& file) {
  save_weights(*model, file, {{kMetadataKey, mtp_options_yaml(model->options())}});
}

MambaMotionPredictor load_mtp(const std::filesystem::path& file) {
  const SafetensorsFile f = read_safetensors(file);
  const auto meta = f.metadata.find(kMetadataKey);
  if (meta == f.metadata.end())
    throw_file_error(file.string(), "no \"mtp\" metadata (not an MTP weights file; vss-track export-mtp makes one "
                                    "from a vss-train checkpoint)");
  MambaMotionPredictor model(mtp_options(Config::parse(meta->second, file.string() + " (metadata \"mtp\")")));
  load_state(*model, f.tensors, file.string());
  return model;
}

}  // namespace vss::track
