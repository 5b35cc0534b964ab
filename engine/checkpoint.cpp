#include "engine/checkpoint.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/safetensors.h"

#include <ATen/CPUGeneratorImpl.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

namespace vss {

using json = nlohmann::json;

void write_checkpoint(const std::filesystem::path& run_dir, const std::string& name,
                      const NamedTensors& tensors, const CheckpointInfo& info) {
  write_safetensors(run_dir / (name + ".safetensors"), tensors, {{"step", std::to_string(info.step)}});
  json j = {{"step", info.step},         {"has_best", info.has_best}, {"best_metric", info.best_metric},
            {"metric", info.metric},     {"optimizer", info.optimizer}, {"config", info.config_yaml}};
  if (!info.classes.empty()) j["classes"] = info.classes;
  write_file_atomically(run_dir / (name + ".json"), j.dump(2) + "\n");
}

CheckpointWeights checkpoint_weights(const Checkpoint& checkpoint, bool raw) {
  bool has_ema = false;
  for (const auto& [key, t] : checkpoint.tensors) has_ema = has_ema || key.rfind("ema.", 0) == 0;
  CheckpointWeights out;
  out.prefix = has_ema && !raw ? "ema." : "model.";
  for (const auto& [key, t] : checkpoint.tensors)
    if (key.rfind(out.prefix, 0) == 0) out.state.emplace_back(key.substr(out.prefix.size()), t);
  return out;
}

Checkpoint read_checkpoint(const std::filesystem::path& run_dir, const std::string& name) {
  const auto json_path = run_dir / (name + ".json");
  const auto tensor_path = run_dir / (name + ".safetensors");
  std::ifstream in(json_path);
  if (!in) throw_file_error(json_path.string(), "cannot open (no checkpoint '" + name + "' in this run directory)");
  Checkpoint out;
  try {
    const json j = json::parse(in);
    out.info.step = j.at("step").get<int64_t>();
    out.info.has_best = j.at("has_best").get<bool>();
    out.info.best_metric = j.at("best_metric").get<double>();
    out.info.metric = j.at("metric").get<std::string>();
    out.info.optimizer = j.at("optimizer").get<std::string>();
    out.info.config_yaml = j.at("config").get<std::string>();
    if (j.contains("classes")) out.info.classes = j.at("classes").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw_file_error(json_path.string(), std::string("malformed checkpoint JSON: ") + e.what());
  }
  SafetensorsFile file = read_safetensors(tensor_path);
  auto it = file.metadata.find("step");
  if (it == file.metadata.end() || it->second != std::to_string(out.info.step))
    throw_file_error(tensor_path.string(), "step " + (it == file.metadata.end() ? std::string("missing") : it->second) +
                                               " does not match " + json_path.filename().string() + " (step " +
                                               std::to_string(out.info.step) + "); the save was interrupted");
  out.tensors = std::move(file.tensors);
  return out;
}

NamedTensors rng_state() {
  NamedTensors out;
  out.emplace_back("rng.cpu", at::detail::getDefaultCPUGenerator().get_state());
  if (torch::cuda::is_available())
    for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i)
      out.emplace_back("rng.cuda." + std::to_string(i),
                       at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, i)).get_state());
  return out;
}

void restore_rng_state(const NamedTensors& tensors, const std::string& source) {
  bool cpu = false;
  for (const auto& [name, state] : tensors) {
    if (name == "rng.cpu") {
      at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the default one
      generator.set_state(state);
      cpu = true;
    } else if (name.rfind("rng.cuda.", 0) == 0 && torch::cuda::is_available()) {
      const int64_t index = std::stoll(name.substr(9));
      if (index < static_cast<int64_t>(torch::cuda::device_count())) {
        at::Generator generator = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, index));
        generator.set_state(state);
      }
    }
  }
  if (!cpu) throw_file_error(source, "missing tensor 'rng.cpu'");
}

}  // namespace vss
