#include "backbones/weights.h"

#include "core/error.h"
#include "core/safetensors.h"

#include <torch/torch.h>

#include <map>

namespace vss {

namespace {

bool is_classifier_head(const std::string& key) { return key.rfind("classifier.head.", 0) == 0; }

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string with_shape(const std::string& key, const at::Tensor& t) {
  return key + " " + shape_to_string(t.sizes().vec());
}

}  // namespace

NamedTensors model_state(const torch::nn::Module& model) {
  NamedTensors out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

WeightLoadReport load_state(torch::nn::Module& model, const NamedTensors& state,
                            const std::string& source, bool strict) {
  std::map<std::string, at::Tensor> given;
  for (const auto& [k, v] : state) given[k] = v;

  WeightLoadReport report;
  std::vector<std::string> missing, unexpected, mismatched;  // messages
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;     // (model tensor, value)
  std::map<std::string, bool> known;
  for (const auto& [key, target] : model_state(model)) {
    known[key] = true;
    auto it = given.find(key);
    if (it == given.end()) {
      report.missing.push_back(key);
      missing.push_back(with_shape(key, target));
    } else if (it->second.sizes() != target.sizes()) {
      if (!strict && is_classifier_head(key)) {
        report.mismatched.push_back(key);
      } else {
        mismatched.push_back(key + " model " + shape_to_string(target.sizes().vec()) + " vs file " +
                             shape_to_string(it->second.sizes().vec()));
      }
    } else {
      copies.emplace_back(target, it->second);
    }
  }
  for (const auto& [key, value] : state)
    if (!known.count(key)) {
      report.unexpected.push_back(key);
      unexpected.push_back(with_shape(key, value));
    }

  std::vector<std::string> problems;
  if (!mismatched.empty()) problems.push_back("shape mismatch: " + join(mismatched, ", "));
  if (strict && !missing.empty()) problems.push_back("missing: " + join(missing, ", "));
  if (strict && !unexpected.empty()) problems.push_back("unexpected: " + join(unexpected, ", "));
  if (!problems.empty())
    throw_file_error(source, "weights do not fit the model (" + std::to_string(mismatched.size()) +
                                 " shape mismatches, " + std::to_string(missing.size()) + " missing, " +
                                 std::to_string(unexpected.size()) + " unexpected keys): " +
                                 join(problems, "; "));

  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
  return report;
}

WeightLoadReport load_weights(torch::nn::Module& model, const std::filesystem::path& file, bool strict,
                              const std::string& prefix) {
  const SafetensorsFile f = read_safetensors(file);
  NamedTensors state;
  for (const auto& [key, value] : f.tensors)
    if (key.rfind(prefix, 0) == 0) state.emplace_back(key.substr(prefix.size()), value);
  return load_state(model, state, file.string(), strict);
}

void save_weights(const torch::nn::Module& model, const std::filesystem::path& file,
                  const std::map<std::string, std::string>& metadata) {
  write_safetensors(file, model_state(model), metadata);
}

}  // namespace vss
