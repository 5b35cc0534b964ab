#pragma once
// A trained VSSM classifier for inference (vss-classify, its eval): the network from --config
// or, for weights written by `vss-classify export`, from the config they carry; the weights
// loaded strictly; class names from the weights (an image-folder run's classes), a names file,
// or none (indices); the eval transform the run trained with, when the weights carry it.
// A head with another class count than the config's is an error naming the weights file and
// both counts unless num_classes says the count (or other_head allows an untrained head).
#include "core/config.h"
#include "datasets/classification_pipeline.h"

#include <memory>
#include <string>
#include <vector>

namespace vss {

class VSSM;

struct ClassifierRequest {
  std::string weights;
  std::string config;           // "" -> the weights' own ("model" metadata), else fallback_config
  std::string fallback_config;
  std::vector<std::string> sets;  // --set overrides of the config
  int64_t num_classes = 0;      // > 0: the model's class count (the config's otherwise)
  bool other_head = false;      // --non-strict: the head may differ and stays as initialised
  std::string classes_file;     // class names, one per line ("" -> the weights', if any)
};

struct Classifier {
  std::shared_ptr<VSSM> model;
  std::vector<std::string> classes;    // empty: unnamed (print indices)
  ClassificationPipeline pipeline;     // the run's (weights metadata "pipeline") or timm's defaults
  std::vector<std::string> untrained;  // head tensors left as initialised (other_head)
  std::string label(int64_t index) const;
};

Classifier load_classifier(const ClassifierRequest& request);

// Safetensors metadata keys that `vss-classify export` writes besides the model config.
inline constexpr const char* kClassesMetadata = "classes";    // JSON list of names
inline constexpr const char* kPipelineMetadata = "pipeline";  // YAML of data.pipeline

}  // namespace vss
