#pragma once
// A head parity case (../shared/parity restore/, change/) as a model: built from the case's
// official `config` through official_model_config, on the fused (plan-driven) or the unfused
// scan, its `state.*` loaded strictly, in eval mode, with the names of the stored inputs it
// takes and of the outputs it must reproduce. Header-only: only the test suites that link the
// heads include it.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/safetensors.h"
#include "heads/change/mamba_bcd.h"
#include "heads/change/mamba_scd.h"
#include "heads/official_config.h"
#include "heads/restore/restoration_net.h"
#include "tests/support/test_support.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vss::test {

struct HeadParityModel {
  std::shared_ptr<torch::nn::Module> module;
  std::vector<std::string> inputs;   // the case's tensors, in forward's order
  std::vector<std::string> outputs;  // the case's reference outputs, in forward's order
  std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>&)> forward;
};

inline HeadParityModel head_parity_model(const SafetensorsFile& file, const std::filesystem::path& path,
                                         bool fused_scan) {
  const std::string kind = file.metadata.at("kind");
  const auto channels = file.metadata.find("decoder_channels");
  Config node = official_model_config(kind, Config::parse(file.metadata.at("config"), path.string() + " config"),
                                      channels == file.metadata.end() ? 128 : std::stoll(channels->second));
  const bool change = kind == "mambabcd" || kind == "mambascd";
  node.apply_override(std::string(change ? "encoder." : "") + "fused_scan=" + (fused_scan ? "true" : "false"));
  HeadParityModel m;
  if (kind == "mambascd") {
    const change::MambaSCD net = change::make_mamba_scd(node);
    m.module = net.ptr();
    m.inputs = {"pre", "post"};
    m.outputs = {"output_cd", "output_t1", "output_t2"};
    m.forward = [net = net.ptr()](const std::vector<at::Tensor>& in) {
      const auto out = net->forward(in[0], in[1]);
      return std::vector<at::Tensor>{out.change, out.t1, out.t2};
    };
  } else if (change) {
    const change::MambaBCD net = change::make_mamba_bcd(node);
    m.module = net.ptr();
    m.inputs = {"pre", "post"};
    m.outputs = {"output"};
    m.forward = [net = net.ptr()](const std::vector<at::Tensor>& in) {
      return std::vector<at::Tensor>{net->forward(in[0], in[1])};
    };
  } else {
    const restore::RestorationNet net = restore::make_restoration_net(node);
    m.module = net.ptr();
    m.inputs = {"input"};
    m.outputs = {"output"};
    m.forward = [net = net.ptr()](const std::vector<at::Tensor>& in) {
      return std::vector<at::Tensor>{net->forward(in[0])};
    };
  }
  load_weights(*m.module, path, /*strict=*/true, "state.");
  m.module->eval();
  return m;
}

// The case's stored inputs for m, on `device`.
inline std::vector<at::Tensor> head_parity_inputs(const HeadParityModel& m, const SafetensorsFile& file,
                                                  c10::Device device) {
  std::vector<at::Tensor> out;
  for (const auto& name : m.inputs) out.push_back(file.at(name).to(device));
  return out;
}

// Calls check(label, model, file) for every case of parity_dir()/sub whose kind is one of
// `kinds`, once per scan path (label "<stem> [fused]" or "[unfused]"); cases of other kinds
// are left to their own test. Returns how many cases were checked.
inline int for_each_head_case(
    const std::string& sub, const std::vector<std::string>& kinds,
    const std::function<void(const std::string&, const HeadParityModel&, const SafetensorsFile&)>& check) {
  int checked = 0;
  for (const auto& path : parity_cases(sub)) {
    const SafetensorsFile file = read_safetensors(path);
    if (std::find(kinds.begin(), kinds.end(), file.metadata.at("kind")) == kinds.end()) continue;
    const std::string stem = path.stem().string();
    for (bool fused : {false, true})
      check(stem + (fused ? " [fused]" : " [unfused]"), head_parity_model(file, path, fused), file);
    ++checked;
  }
  return checked;
}

}  // namespace vss::test
