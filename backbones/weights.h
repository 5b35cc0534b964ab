#pragma once
// Loading and saving a model's state (parameters + buffers) by the official key names,
// from/to safetensors. Strict by default: every missing, unexpected or shape-mismatched key
// is named, with both shapes, in one error line that starts with the source file.
#include "core/config.h"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

namespace vss {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct WeightLoadReport {
  std::vector<std::string> missing;     // in the model, not in the file (left as they were)
  std::vector<std::string> unexpected;  // in the file, not in the model (ignored)
  std::vector<std::string> mismatched;  // classifier.head.* of another shape (left as they were)
};

// What a load accepts besides an exact match of keys and shapes.
enum class WeightMatch {
  kStrict,     // nothing: every key of the model in the file, no other key, every shape equal
  kOtherHead,  // another classifier head (classifier.head.*: missing, unexpected or another
               // num_classes, left as initialised); everything else strict (vss-classify --non-strict)
  kPartial,    // also missing and unexpected keys anywhere (a classifier checkpoint into a dense
               // backbone); shapes strict except the classifier head's
};

// Any difference `match` does not accept is an error listing them (the first few of each kind
// and their counts). Values are copied into the model's tensors (keeping their device and
// dtype), nothing when the load fails; the report lists what was accepted.
WeightLoadReport load_state(torch::nn::Module& model, const NamedTensors& state,
                            const std::string& source, WeightMatch match = WeightMatch::kStrict);
// Reads a safetensors file; `prefix` (e.g. "state.") is stripped from, and selects, its keys.
WeightLoadReport load_weights(torch::nn::Module& model, const std::filesystem::path& file,
                              WeightMatch match = WeightMatch::kStrict, const std::string& prefix = "");
// The boolean spelling: true is kStrict, false kPartial.
inline WeightLoadReport load_weights(torch::nn::Module& model, const std::filesystem::path& file, bool strict,
                                     const std::string& prefix = "") {
  return load_weights(model, file, strict ? WeightMatch::kStrict : WeightMatch::kPartial, prefix);
}

// Parameters then buffers, by their full dotted names.
NamedTensors model_state(const torch::nn::Module& model);
void save_weights(const torch::nn::Module& model, const std::filesystem::path& file,
                  const std::map<std::string, std::string>& metadata = {});

// A task's `pretrained_backbone: FILE` (node: the task's YAML node; nothing happens without
// the key): loads FILE into `backbone` by name, keeping what does not match as initialised
// (counts logged); a file that cannot be read is an error at the key.
void load_pretrained_backbone(torch::nn::Module& backbone, const Config& node);

}  // namespace vss
