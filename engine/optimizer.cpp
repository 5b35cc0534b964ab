#include "engine/optimizer.h"

#include "core/config.h"
#include "core/error.h"
#include "engine/fused_adamw.h"

#include <torch/torch.h>

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>

namespace vss {

bool excluded_from_weight_decay(const std::string& name, const at::Tensor& parameter) {
  if (parameter.dim() <= 1) return true;
  const auto dot = name.rfind('.');
  const std::string leaf = dot == std::string::npos ? name : name.substr(dot + 1);
  return leaf == "bias" || leaf == "A_logs" || leaf == "Ds" || leaf == "dt_projs_bias";
}

namespace {

struct GroupRule {
  std::string match;
  double lr_mult = 1, decay_mult = 1;
  bool used = false;
};

std::vector<GroupRule> read_group_rules(const Config& node) {
  std::vector<GroupRule> rules;
  if (!node.has("param_groups")) return rules;
  const Config list = node["param_groups"];
  if (!list.is_list()) list.fail("expected a list of {match, lr_mult, decay_mult}");
  for (size_t i = 0; i < list.size(); ++i) {
    const Config item = list.at(i);
    item.check_keys({"match", "lr_mult", "decay_mult"});
    GroupRule r;
    r.match = item.get<std::string>("match");
    r.lr_mult = item.get_or<double>("lr_mult", 1.0);
    r.decay_mult = item.get_or<double>("decay_mult", 1.0);
    if (!(r.lr_mult >= 0)) item["lr_mult"].fail("must be >= 0");
    if (!(r.decay_mult >= 0)) item["decay_mult"].fail("must be >= 0");
    rules.push_back(r);
  }
  return rules;
}

// Layer ids for layer-wise decay (see the header); `num_layers` is set to L.
std::vector<int64_t> vssm_layer_ids(const std::vector<std::string>& names, int64_t& num_layers) {
  static const std::regex block(R"((^|\.)layers\.(\d+)\.blocks\.(\d+)\.)");
  static const std::regex downsample(R"((^|\.)layers\.(\d+)\.downsample\.)");
  static const std::regex stem(R"((^|\.)patch_embed\.)");
  std::map<int64_t, int64_t> blocks_in_stage;
  std::smatch m;
  for (const auto& n : names)
    if (std::regex_search(n, m, block)) {
      const int64_t stage = std::stoll(m[2]), j = std::stoll(m[3]);
      blocks_in_stage[stage] = std::max(blocks_in_stage[stage], j + 1);
    }
  std::map<int64_t, int64_t> first_of_stage;  // layer id of each stage's block 0
  num_layers = 0;
  for (const auto& [stage, count] : blocks_in_stage) {
    first_of_stage[stage] = 1 + num_layers;
    num_layers += count;
  }
  std::vector<int64_t> ids;
  for (const auto& n : names) {
    if (std::regex_search(n, m, block)) {
      ids.push_back(first_of_stage[std::stoll(m[2])] + std::stoll(m[3]));
    } else if (std::regex_search(n, m, downsample) && blocks_in_stage.count(std::stoll(m[2]))) {
      const int64_t stage = std::stoll(m[2]);
      ids.push_back(first_of_stage[stage] + blocks_in_stage[stage] - 1);
    } else if (std::regex_search(n, m, stem)) {
      ids.push_back(0);
    } else {
      ids.push_back(num_layers + 1);
    }
  }
  return ids;
}

}  // namespace

BuiltOptimizer make_optimizer(const Config& node, torch::nn::Module& model) {
  const auto type = node.get<std::string>("type");
  const double lr = node.get<double>("lr");
  const double wd = node.get_or<double>("weight_decay", 0.0);
  if (!(lr > 0)) node["lr"].fail("must be > 0, got " + std::to_string(lr));
  if (wd < 0) node["weight_decay"].fail("must be >= 0, got " + std::to_string(wd));
  if (type == "adamw") {
    node.check_keys({"type", "lr", "weight_decay", "betas", "eps", "fused", "param_groups", "layer_decay"});
  } else if (type == "sgd") {
    node.check_keys({"type", "lr", "weight_decay", "momentum", "nesterov", "param_groups", "layer_decay"});
  } else {
    node["type"].fail("unknown optimizer '" + type + "' (known: adamw, sgd)");
  }

  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    names.push_back(item.key());
    params.push_back(item.value());
  }
  std::vector<GroupRule> rules = read_group_rules(node);
  std::vector<int64_t> layer;
  int64_t num_layers = 0;
  double layer_decay = 1;
  if (node.has("layer_decay")) {
    layer_decay = node.get<double>("layer_decay");
    if (!(layer_decay > 0 && layer_decay <= 1)) node["layer_decay"].fail("must be in (0, 1]");
    layer = vssm_layer_ids(names, num_layers);
    if (num_layers == 0) node["layer_decay"].fail("the model has no VSSM layers.<i>.blocks.<j> parameters to decay");
  }

  // Groups keyed by (lr multiplier, weight decay): first those that decay, then those that
  // do not, each in order of their first parameter; without multipliers that is the decay
  // group then the no-decay group.
  std::vector<std::pair<double, double>> keys;
  std::vector<std::vector<torch::Tensor>> members;
  for (const bool decaying : {true, false}) {
    const size_t first_group = keys.size();
    for (size_t i = 0; i < params.size(); ++i) {
      if (excluded_from_weight_decay(names[i], params[i]) == decaying) continue;
      double mult = 1, decay = decaying ? wd : 0.0;
      for (auto& r : rules)
        if (fnmatch(r.match.c_str(), names[i].c_str(), 0) == 0) {
          r.used = true;
          mult = r.lr_mult;
          decay *= r.decay_mult;
          break;
        }
      if (!layer.empty()) mult *= std::pow(layer_decay, static_cast<double>(num_layers + 1 - layer[i]));
      const std::pair<double, double> key{mult, decay};
      auto it = std::find(keys.begin() + static_cast<std::ptrdiff_t>(first_group), keys.end(), key);
      if (it == keys.end()) {
        keys.push_back(key);
        members.emplace_back();
        it = keys.end() - 1;
      }
      members[static_cast<size_t>(it - keys.begin())].push_back(params[i]);
    }
  }
  for (size_t i = 0; i < rules.size(); ++i)
    if (!rules[i].used)
      node["param_groups"].at(i)["match"].fail("'" + rules[i].match +
                                               "' matches no trainable parameter that an earlier entry did not take");

  BuiltOptimizer out{nullptr, type, {}};
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (type == "adamw") {
    const auto betas = node.get_or<std::vector<double>>("betas", {0.9, 0.999});
    if (betas.size() != 2) node["betas"].fail("expected 2 values, got " + std::to_string(betas.size()));
    auto options = [&](double group_lr, double weight_decay) {
      return torch::optim::AdamWOptions(group_lr)
          .betas({betas[0], betas[1]})
          .eps(node.get_or<double>("eps", 1e-8))
          .weight_decay(weight_decay);
    };
    for (size_t g = 0; g < keys.size(); ++g)
      groups.emplace_back(members[g], std::make_unique<torch::optim::AdamWOptions>(
                                          options(lr * keys[g].first, keys[g].second)));
    if (node.get_or<bool>("fused", true))
      out.optimizer = std::make_unique<FusedAdamW>(groups, options(lr, wd));
    else
      out.optimizer = std::make_unique<torch::optim::AdamW>(groups, options(lr, wd));
  } else {
    auto options = [&](double group_lr, double weight_decay) {
      return torch::optim::SGDOptions(group_lr)
          .momentum(node.get_or<double>("momentum", 0.9))
          .nesterov(node.get_or<bool>("nesterov", false))
          .weight_decay(weight_decay);
    };
    for (size_t g = 0; g < keys.size(); ++g)
      groups.emplace_back(members[g], std::make_unique<torch::optim::SGDOptions>(
                                          options(lr * keys[g].first, keys[g].second)));
    out.optimizer = std::make_unique<torch::optim::SGD>(groups, options(lr, wd));
  }
  for (const auto& k : keys) out.lr_mults.push_back(k.first);
  return out;
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& lr_mults) {
  auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lr * (g < lr_mults.size() ? lr_mults[g] : 1.0));
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
