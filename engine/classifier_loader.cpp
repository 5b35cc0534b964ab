#include "engine/classifier_loader.h"

#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/error.h"
#include "core/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace vss {

namespace {

std::vector<std::string> read_names(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_file_error(path, "cannot open the class names file");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  while (!names.empty() && names.back().empty()) names.pop_back();
  return names;
}

std::vector<std::string> names_from_metadata(const SafetensorsFile& file) {
  const auto it = file.metadata.find(kClassesMetadata);
  if (it == file.metadata.end()) return {};
  try {
    return nlohmann::json::parse(it->second).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(file.source, std::string("metadata 'classes' is not a JSON list of names: ") + e.what());
  }
}

}  // namespace

std::string Classifier::label(int64_t index) const {
  return index < static_cast<int64_t>(classes.size()) ? classes[static_cast<size_t>(index)] : std::to_string(index);
}

Classifier load_classifier(const ClassifierRequest& request) {
  const SafetensorsFile file = read_safetensors(request.weights);
  const auto model_yaml = file.metadata.find("model");
  Config node = !request.config.empty()            ? Config::load(request.config)
                : model_yaml != file.metadata.end() ? Config::parse(model_yaml->second, request.weights + " (model)")
                                                    : Config::load(request.fallback_config);
  for (const auto& s : request.sets) node.apply_override(s);
  if (request.num_classes > 0) node.apply_override("num_classes=" + std::to_string(request.num_classes));

  Classifier out;
  out.model = std::dynamic_pointer_cast<VSSM>(make_backbone(node));
  if (!out.model || out.model->is_dense_backbone()) node.fail("a classifier config (type: vssm, num_classes > 0) is needed");
  const int64_t num_classes = out.model->options().num_classes;
  if (file.contains("classifier.head.weight") && !request.other_head) {
    const int64_t stored = file.at("classifier.head.weight").size(0);
    if (stored != num_classes)
      throw_file_error(request.weights, "its classifier head has " + std::to_string(stored) + " classes but the model has " +
                                            std::to_string(num_classes) + "; pass --num-classes " + std::to_string(stored) +
                                            " (or --non-strict for an untrained head)");
  }
  const WeightLoadReport report =
      load_state(*out.model, file.tensors, request.weights, request.other_head ? WeightMatch::kOtherHead : WeightMatch::kStrict);
  out.untrained = report.mismatched;
  out.untrained.insert(out.untrained.end(), report.missing.begin(), report.missing.end());

  out.classes = request.classes_file.empty() ? names_from_metadata(file) : read_names(request.classes_file);
  const std::string names_source = request.classes_file.empty() ? request.weights + " (metadata classes)" : request.classes_file;
  if (!out.classes.empty() && static_cast<int64_t>(out.classes.size()) != num_classes)
    throw_file_error(names_source, "names " + std::to_string(out.classes.size()) + " classes but the model has " +
                                       std::to_string(num_classes));
  if (const auto it = file.metadata.find(kPipelineMetadata); it != file.metadata.end())
    out.pipeline = ClassificationPipeline::from_config(Config::parse(it->second, request.weights + " (pipeline)"));
  return out;
}

}  // namespace vss
