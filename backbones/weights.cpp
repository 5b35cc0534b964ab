#include "backbones/weights.h"

#include "core/error.h"
#include "core/log.h"
#include "core/safetensors.h"

#include <torch/torch.h>

#include <map>

namespace vss {

namespace {

bool is_classifier_head(const std::string& key) { return key.rfind("classifier.head.", 0) == 0; }

// Whether `match` lets the file lack `key`, or hold it when the model does not.
bool key_may_differ(const std::string& key, WeightMatch match) {
  return match == WeightMatch::kPartial || (match == WeightMatch::kOtherHead && is_classifier_head(key));
}

std::string with_shape(const std::string& key, const at::Tensor& t) {
  return key + " " + shape_to_string(t.sizes().vec());
}

// "<kind>: a, b, c, ... (N in all)": an official checkpoint into the wrong model differs in
// hundreds of keys, and one line of all of them helps nobody.
std::string first_few(const std::string& kind, const std::vector<std::string>& items) {
  constexpr size_t kShown = 6;
  std::string out = kind + ": ";
  for (size_t i = 0; i < items.size() && i < kShown; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > kShown) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

}  // namespace

NamedTensors model_state(const torch::nn::Module& model) {
  NamedTensors out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

WeightLoadReport load_state(torch::nn::Module& model, const NamedTensors& state,
                            const std::string& source, WeightMatch match) {
  std::map<std::string, at::Tensor> given;
  for (const auto& [k, v] : state) given[k] = v;

  WeightLoadReport report;
  std::vector<std::string> missing, unexpected, mismatched;  // refused, with shapes
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;     // (model tensor, value)
  std::map<std::string, bool> known;
  for (const auto& [key, target] : model_state(model)) {
    known[key] = true;
    auto it = given.find(key);
    if (it == given.end()) {
      report.missing.push_back(key);
      if (!key_may_differ(key, match)) missing.push_back(with_shape(key, target));
    } else if (it->second.sizes() != target.sizes()) {
      if (match != WeightMatch::kStrict && is_classifier_head(key)) {
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
      if (!key_may_differ(key, match)) unexpected.push_back(with_shape(key, value));
    }

  std::vector<std::string> problems;
  if (!mismatched.empty()) problems.push_back(first_few("shape mismatch", mismatched));
  if (!missing.empty()) problems.push_back(first_few("missing", missing));
  if (!unexpected.empty()) problems.push_back(first_few("unexpected", unexpected));
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw_file_error(source, "weights do not fit the model (" + std::to_string(mismatched.size()) +
                                 " shape mismatches, " + std::to_string(missing.size()) + " missing, " +
                                 std::to_string(unexpected.size()) + " unexpected keys" +
                                 (match == WeightMatch::kOtherHead ? "; only the classifier head may differ" : "") +
                                 "): " + all);
  }

  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
  return report;
}

WeightLoadReport load_weights(torch::nn::Module& model, const std::filesystem::path& file, WeightMatch match,
                              const std::string& prefix) {
  const SafetensorsFile f = read_safetensors(file);
  NamedTensors state;
  for (const auto& [key, value] : f.tensors)
    if (key.rfind(prefix, 0) == 0) state.emplace_back(key.substr(prefix.size()), value);
  return load_state(model, state, file.string(), match);
}

void save_weights(const torch::nn::Module& model, const std::filesystem::path& file,
                  const std::map<std::string, std::string>& metadata) {
  write_safetensors(file, model_state(model), metadata);
}

void load_pretrained_backbone(torch::nn::Module& backbone, const Config& node) {
  if (!node.has("pretrained_backbone")) return;
  const std::string file = node.get<std::string>("pretrained_backbone");
  try {
    const WeightLoadReport r = load_weights(backbone, file, WeightMatch::kPartial);
    log::info("backbone from ", file, ": ", r.missing.size(), " missing, ", r.unexpected.size(), " unexpected, ",
              r.mismatched.size(), " mismatched tensors (left as initialised / ignored)");
  } catch (const Error& e) {
    node["pretrained_backbone"].fail(e.what());
  }
}

}  // namespace vss
