// vss-bench train: training throughput (images/s) of full optimizer steps and their peak memory,
// what vss-train does per step minus data loading: zero grad, forward + loss under autocast,
// backward, gradient clipping where the config asks for it, the optimizer step.
//   - a bare backbone config (configs/backbones/vmamba_tiny.yaml): the classifier on random
//     images and random labels, cross-entropy, --optimizer (default AdamW, lr 1e-3, weight
//     decay 0.05) — the step tools/bench_peers.py --train times for the timm peers;
//   - a training config (one with `task:`, e.g. configs/seg/upernet_vmamba_tiny_synth_512.yaml):
//     the task's model, loss and `optimizer:`, on one batch of --batch samples drawn once from
//     the task's own data (its `data:` sets the sizes, so --res does not apply).
// The batch stays on the device, so the step time is the GPU's alone (the loader's ceiling is
// what vss-train's `img_per_s` adds). Time: median of --repeat steps after --warmup ones.
//   vss-bench train --config configs/backbones/vmamba_tiny.yaml --res 224 --batch 128 --dtype bf16
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/mixed_precision.h"
#include "engine/optimizer.h"
#include "engine/task.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <numeric>

namespace vss::bench {
namespace {

// What one training step needs: the model, the loss of the fixed batch, the optimizer.
struct TrainSetup {
  std::shared_ptr<torch::nn::Module> model;
  std::function<at::Tensor()> loss;
  BuiltOptimizer optimizer;
  double clip_grad_norm = 0;
  std::string what;  // "classification" or the task type
};

TrainSetup classifier_setup(const Config& node, const Config& optimizer, const RunOptions& run) {
  torch::manual_seed(0);
  std::shared_ptr<Backbone> backbone = make_backbone(node);
  auto vssm = std::dynamic_pointer_cast<VSSM>(backbone);
  if (!vssm || vssm->is_dense_backbone())
    throw Error("--config: a classifier VSSM (num_classes > 0) or a training config with `task:` is needed");
  vssm->to(run.device);
  const auto dev = torch::TensorOptions().device(run.device);
  const at::Tensor images = torch::randn({run.batch, vssm->options().in_chans, run.height, run.width}, dev);
  const at::Tensor labels = torch::randint(0, vssm->options().num_classes, {run.batch}, dev.dtype(at::kLong));
  TrainSetup s;
  s.model = vssm;
  s.loss = [vssm, images, labels] { return torch::cross_entropy_loss(vssm->forward(images), labels); };
  s.optimizer = make_optimizer(optimizer, *vssm);
  s.what = "classification";
  return s;
}

TrainSetup task_setup(const Config& root, const RunOptions& run) {
  torch::manual_seed(0);
  std::shared_ptr<Task> task = make_task(root, run.device);
  std::vector<int64_t> indices(static_cast<size_t>(run.batch));
  std::iota(indices.begin(), indices.end(), int64_t{0});
  for (auto& i : indices) i %= task->train_size();
  Batch batch = task->train_batch(indices, 0);
  batch.inputs = batch.inputs.to(run.device);
  batch.targets = batch.targets.to(run.device);
  TrainSetup s;
  s.model = std::shared_ptr<torch::nn::Module>(task, &task->model());
  s.loss = [task, batch] { return task->loss(batch).to(at::kFloat); };
  s.optimizer = make_optimizer(root["optimizer"], task->model());
  if (root.has("train")) s.clip_grad_norm = root["train"].get_or<double>("clip_grad_norm", 0.0);
  s.what = root["task"].get<std::string>("type");
  return s;
}

int run_train_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench train", "Times full training steps (images/s) and reports their peak memory.");
  auto& config = p.option("--config", "FILE", "",
                          "backbone YAML (a classifier) or a training config with `task:`", true);
  auto& sets = p.multi("--set", "key=value", "override a config key");
  RunOptionParser run_options(p, "224", "128");
  auto& optimizer_yaml = p.option("--optimizer", "YAML", "{type: adamw, lr: 0.001, weight_decay: 0.05}",
                                  "the classifier's optimizer (engine/optimizer.h); a training config has its own");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto run = run_options.read("vss-bench train");
  if (!run) return 2;

  Config node = Config::load(config.str());
  for (const auto& s : sets.values) node.apply_override(s);
  const bool task = node.has("task");
  if (task && optimizer_yaml) throw Error("--optimizer: a training config has its own (--set optimizer.<key>=...)");
  TrainSetup s = task ? task_setup(node, *run) : classifier_setup(node, Config::parse(optimizer_yaml.str()), *run);
  s.model->train();
  std::vector<at::Tensor> params = s.model->parameters();
  const int64_t num_params =
      std::accumulate(params.begin(), params.end(), int64_t{0}, [](int64_t n, const at::Tensor& t) { return n + t.numel(); });
  torch::optim::Optimizer& optimizer = *s.optimizer.optimizer;
  const std::optional<c10::ScalarType> autocast =
      run->bf16 ? std::optional<c10::ScalarType>(at::kBFloat16) : std::nullopt;
  at::Tensor loss;
  auto step = [&] {
    optimizer.zero_grad();
    {
      AutocastScope scope(run->device, autocast);  // forward and loss only, as vss-train does
      loss = s.loss();
    }
    loss.backward();
    if (s.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(params, s.clip_grad_norm);
    optimizer.step();
  };
  RunOptions untimed_autocast = *run;
  untimed_autocast.bf16 = false;  // the step sets its own scope
  const Timing timing = time_run(untimed_autocast, step);
  const double last_loss = loss.item<double>();
  if (!std::isfinite(last_loss)) throw Error("the loss became " + std::to_string(last_loss) + " while timing");
  const int64_t B = run->batch;
  const double ips = static_cast<double>(B) / (timing.ms / 1e3);

  if (json) {
    nlohmann::json j{{"config", config.str()}, {"overrides", sets.values}, {"task", s.what}, {"params", num_params},
                     {"batch", B}, {"dtype", run->dtype}, {"device", run->device.str()},
                     {"repeat", run->repeat}, {"warmup", run->warmup}, {"ms_per_step", timing.ms},
                     {"images_per_s", ips}, {"peak_mib", peak_json(timing.peak_mib)}, {"loss", last_loss}};
    if (!task) {
      j["H"] = run->height;
      j["W"] = run->width;
    }
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-40s %-14s b%-4lld %-5s %-7s %9.3f ms/step %10.1f img/s  peak %13s  (%.2fM params)\n",
                config.str().c_str(), s.what.c_str(), static_cast<long long>(B), run->dtype.c_str(),
                run->device.str().c_str(), timing.ms, ips, peak_text(timing.peak_mib).c_str(), static_cast<double>(num_params) / 1e6);
  }
  return 0;
}

const BenchCommand kTrain("train", "training-step throughput (images/s) and peak memory", run_train_bench);

}  // namespace
}  // namespace vss::bench
