#include "engine/optimizer.h"

#include "core/config.h"
#include "core/error.h"

#include <torch/torch.h>

#include <map>

namespace vss {

bool excluded_from_weight_decay(const std::string& name, const at::Tensor& parameter) {
  if (parameter.dim() <= 1) return true;
  const auto dot = name.rfind('.');
  const std::string leaf = dot == std::string::npos ? name : name.substr(dot + 1);
  return leaf == "bias" || leaf == "A_logs" || leaf == "Ds" || leaf == "dt_projs_bias";
}

BuiltOptimizer make_optimizer(const Config& node, torch::nn::Module& model) {
  const auto type = node.get<std::string>("type");
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    (excluded_from_weight_decay(item.key(), item.value()) ? no_decay : decay).push_back(item.value());
  }
  const double lr = node.get<double>("lr");
  const double wd = node.get_or<double>("weight_decay", 0.0);
  if (!(lr > 0)) node["lr"].fail("must be > 0, got " + std::to_string(lr));
  if (wd < 0) node["weight_decay"].fail("must be >= 0, got " + std::to_string(wd));

  BuiltOptimizer out{nullptr, type};
  if (type == "adamw") {
    node.check_keys({"type", "lr", "weight_decay", "betas", "eps"});
    const auto betas = node.get_or<std::vector<double>>("betas", {0.9, 0.999});
    if (betas.size() != 2) node["betas"].fail("expected 2 values, got " + std::to_string(betas.size()));
    auto options = [&](double weight_decay) {
      return torch::optim::AdamWOptions(lr)
          .betas({betas[0], betas[1]})
          .eps(node.get_or<double>("eps", 1e-8))
          .weight_decay(weight_decay);
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(options(wd)));
    if (!no_decay.empty()) groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(options(0.0)));
    out.optimizer = std::make_unique<torch::optim::AdamW>(groups, options(wd));
  } else if (type == "sgd") {
    node.check_keys({"type", "lr", "weight_decay", "momentum", "nesterov"});
    auto options = [&](double weight_decay) {
      return torch::optim::SGDOptions(lr)
          .momentum(node.get_or<double>("momentum", 0.9))
          .nesterov(node.get_or<bool>("nesterov", false))
          .weight_decay(weight_decay);
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) groups.emplace_back(decay, std::make_unique<torch::optim::SGDOptions>(options(wd)));
    if (!no_decay.empty()) groups.emplace_back(no_decay, std::make_unique<torch::optim::SGDOptions>(options(0.0)));
    out.optimizer = std::make_unique<torch::optim::SGD>(groups, options(wd));
  } else {
    node["type"].fail("unknown optimizer '" + type + "' (known: adamw, sgd)");
  }
  return out;
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

namespace {

bool contains(const NamedTensors& state, const std::string& name) {
  for (const auto& kv : state)
    if (kv.first == name) return true;
  return false;
}

const at::Tensor& find(const NamedTensors& state, const std::string& name, const std::string& source) {
  for (const auto& [key, value] : state)
    if (key == name) return value;
  throw_file_error(source, "missing optimizer tensor '" + name + "'");
}

}  // namespace

NamedTensors optimizer_state(const torch::optim::Optimizer& optimizer, const std::string& type,
                             const torch::nn::Module& model, const std::string& prefix) {
  NamedTensors out;
  const auto& states = optimizer.state();
  for (const auto& item : model.named_parameters()) {
    auto it = states.find(item.value().unsafeGetTensorImpl());
    if (it == states.end()) continue;
    const std::string base = prefix + item.key() + ".";
    if (type == "adamw") {
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      out.emplace_back(base + "step", torch::tensor(s.step(), torch::kInt64));
      out.emplace_back(base + "exp_avg", s.exp_avg());
      out.emplace_back(base + "exp_avg_sq", s.exp_avg_sq());
    } else {
      const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
      out.emplace_back(base + "momentum_buffer", s.momentum_buffer());
    }
  }
  return out;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& type,
                          const torch::nn::Module& model, const NamedTensors& state,
                          const std::string& prefix, const std::string& source) {
  auto& states = optimizer.state();
  states.clear();
  for (const auto& item : model.named_parameters()) {
    const std::string base = prefix + item.key() + ".";
    const auto& p = item.value();
    auto load = [&](const std::string& what) {
      return find(state, base + what, source).to(p.device()).clone();
    };
    if (type == "adamw") {
      if (!contains(state, base + "step")) continue;  // parameter never stepped
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(find(state, base + "step", source).item<int64_t>());
      s->exp_avg(load("exp_avg"));
      s->exp_avg_sq(load("exp_avg_sq"));
      states[p.unsafeGetTensorImpl()] = std::move(s);
    } else {
      if (!contains(state, base + "momentum_buffer")) continue;
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(load("momentum_buffer"));
      states[p.unsafeGetTensorImpl()] = std::move(s);
    }
  }
}

}  // namespace vss
