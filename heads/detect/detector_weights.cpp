// Detector weights with their model YAML in the metadata (see detector_weights.h).
#include "heads/detect/detector_weights.h"

#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/safetensors.h"

namespace vss::detect {
namespace {

constexpr char kMetadataKey[] = "detector";

}  // namespace

void save_detector(CenterNet& model, const std::string& model_yaml, const std::filesystem::path& file) {
  save_weights(*model, file, {{kMetadataKey, model_yaml}});
}

CenterNet load_detector(const std::filesystem::path& file, const std::filesystem::path& model_config) {
  const SafetensorsFile f = read_safetensors(file);
  CenterNet model{nullptr};
  if (!model_config.empty()) {
    const Config c = Config::load(model_config);
    model = make_centernet(c.has("model") ? c["model"] : c);
  } else {
    const auto meta = f.metadata.find(kMetadataKey);
    if (meta == f.metadata.end())
      throw_file_error(file.string(), "no \"detector\" metadata (not detector weights; vss-detect export makes them "
                                      "from a vss-train run) and no --config to build the network from");
    model = make_centernet(Config::parse(meta->second, file.string() + " (metadata \"detector\")"));
  }
  load_state(*model, f.tensors, file.string());
  model->eval();
  return model;
}

}  // namespace vss::detect
