#pragma once
// Loading and saving a model's state (parameters + buffers) by the official key names,
// from/to safetensors. Strict by default: every missing, unexpected or shape-mismatched key
// is named, with both shapes, in one error line that starts with the source file.
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

// strict: any missing / unexpected / mismatched key is an error (listing all of them).
// non-strict: missing and unexpected keys are reported, not errors, and a classifier head of
// another shape (a different num_classes) is skipped; any other shape mismatch is an error.
// Values are copied into the model's tensors (keeping their device and dtype).
WeightLoadReport load_state(torch::nn::Module& model, const NamedTensors& state,
                            const std::string& source, bool strict = true);
// Reads a safetensors file; `prefix` (e.g. "state.") is stripped from, and selects, its keys.
WeightLoadReport load_weights(torch::nn::Module& model, const std::filesystem::path& file,
                              bool strict = true, const std::string& prefix = "");

// Parameters then buffers, by their full dotted names.
NamedTensors model_state(const torch::nn::Module& model);
void save_weights(const torch::nn::Module& model, const std::filesystem::path& file,
                  const std::map<std::string, std::string>& metadata = {});

}  // namespace vss
