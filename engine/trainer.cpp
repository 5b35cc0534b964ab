#include "engine/trainer.h"

#include "backbones/weights.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/seed.h"
#include "engine/batch_prefetcher.h"
#include "engine/batch_sampler.h"
#include "engine/checkpoint.h"
#include "engine/ema.h"
#include "engine/interrupt.h"
#include "engine/lr_schedule.h"
#include "engine/mixed_precision.h"
#include "engine/optimizer.h"
#include "engine/task.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace vss {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct LoopSettings {
  int64_t steps, batch_size, grad_accum, log_every, eval_every, checkpoint_every, prefetch;
  uint64_t seed;
  double clip_grad_norm;
  std::string precision;
};

LoopSettings read_loop_settings(const Config& train) {
  train.check_keys({"steps", "batch_size", "grad_accum", "clip_grad_norm", "seed", "log_every", "eval_every",
                    "checkpoint_every", "prefetch", "precision"});
  LoopSettings s;
  s.steps = train.get<int64_t>("steps");
  s.batch_size = train.get<int64_t>("batch_size");
  s.grad_accum = train.get_or<int64_t>("grad_accum", 1);
  s.clip_grad_norm = train.get_or<double>("clip_grad_norm", 0.0);
  s.seed = static_cast<uint64_t>(train.get_or<int64_t>("seed", 0));
  s.log_every = train.get_or<int64_t>("log_every", 10);
  s.eval_every = train.get_or<int64_t>("eval_every", 0);
  s.checkpoint_every = train.get_or<int64_t>("checkpoint_every", 0);
  s.prefetch = train.get_or<int64_t>("prefetch", 4);
  s.precision = train.get_or<std::string>("precision", "fp32");
  auto positive = [&](const char* key, int64_t v) {
    if (v < 1) train[key].fail("must be >= 1, got " + std::to_string(v));
  };
  positive("steps", s.steps);
  positive("batch_size", s.batch_size);
  positive("grad_accum", s.grad_accum);
  positive("log_every", s.log_every);
  positive("prefetch", s.prefetch);
  if (s.clip_grad_norm < 0) train["clip_grad_norm"].fail("must be >= 0 (0: off)");
  if (s.eval_every < 0) train["eval_every"].fail("must be >= 0 (0: only at the end)");
  if (s.checkpoint_every < 0) train["checkpoint_every"].fail("must be >= 0 (0: only at the end)");
  return s;
}

// Scalar leaves by dotted key ("optimizer.lr" -> "0.003"); lists and scalars as YAML text.
void flatten(const Config& node, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (node.is_map()) {
    for (const auto& key : node.keys()) flatten(node[key], prefix.empty() ? key : prefix + "." + key, out);
  } else {
    out[prefix] = node.dump();
  }
}

// Keys whose values differ between the run being resumed and the config given now; the step
// budget may change (resuming to train longer).
std::vector<std::string> differing_keys(const Config& saved, const Config& current) {
  std::map<std::string, std::string> a, b;
  flatten(saved, "", a);
  flatten(current, "", b);
  std::vector<std::string> out;
  for (const auto& [key, value] : a)
    if (key != "train.steps" && (!b.count(key) || b[key] != value)) out.push_back(key);
  for (const auto& [key, value] : b)
    if (key != "train.steps" && !a.count(key)) out.push_back(key);
  return out;
}

NamedTensors with_prefix(const std::string& prefix, const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
  return out;
}

NamedTensors select_prefix(const std::string& prefix, const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

std::string format_number(double v) {
  std::ostringstream ss;
  ss.precision(4);
  ss << v;
  return ss.str();
}

class MetricsLog {
 public:
  explicit MetricsLog(const fs::path& file) : out_(file, std::ios::app) {
    if (!out_) throw_file_error(file.string(), "cannot open for appending");
  }
  void write(const json& record) {
    out_ << record.dump() << "\n";
    out_.flush();
  }

 private:
  std::ofstream out_;
};

}  // namespace

TrainResult train(const Config& config, const TrainerOptions& options) {
  config.check_keys({"task", "model", "data", "optimizer", "schedule", "ema", "train"});
  const LoopSettings loop = read_loop_settings(config["train"]);
  const c10::Device device(options.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("--device " + options.device + ": no CUDA device is available");

  const fs::path& run_dir = options.run_dir;
  if (options.resume) {
    if (!fs::is_directory(run_dir)) throw_file_error(run_dir.string(), "resume directory does not exist");
  } else {
    if (fs::exists(run_dir / "last.json"))
      throw_file_error(run_dir.string(), "already holds a run (last.json); pass --resume to continue it or pick another --work-dir");
    fs::create_directories(run_dir);
  }

  Precision precision;
  try {
    precision = parse_precision(loop.precision, device);
  } catch (const Error& e) {
    config["train"]["precision"].fail(e.what());
  }
  std::optional<GradScaler> scaler;
  if (precision.name == "fp16") scaler.emplace();

  torch::manual_seed(loop.seed);
  std::shared_ptr<Task> task = make_task(config, device);
  torch::nn::Module& model = task->model();
  BuiltOptimizer built = make_optimizer(config["optimizer"], model);
  torch::optim::Optimizer& optimizer = *built.optimizer;
  const LrSchedule schedule =
      config.has("schedule")
          ? LrSchedule::from_config(config["schedule"], config["optimizer"].get<double>("lr"), loop.steps)
          : LrSchedule{LrSchedule::Kind::Constant, config["optimizer"].get<double>("lr"), loop.steps};
  std::optional<ModelEma> ema;
  if (config.has("ema")) {
    config["ema"].check_keys({"decay"});
    ema.emplace(model, config["ema"].get<double>("decay"));
  }

  CheckpointInfo info;
  info.metric = task->metric_name();
  info.optimizer = built.type;
  info.config_yaml = config.dump();
  if (options.resume) {
    Checkpoint ckpt = read_checkpoint(run_dir, "last");
    const std::string source = (run_dir / "last.safetensors").string();
    const auto differ = differing_keys(Config::parse(ckpt.info.config_yaml, (run_dir / "last.json").string()), config);
    if (!differ.empty()) {
      std::string list;
      for (const auto& k : differ) list += (list.empty() ? "" : ", ") + k;
      throw_file_error(run_dir.string(), "was trained with a different config (differing keys: " + list + ")");
    }
    load_state(model, select_prefix("model.", ckpt.tensors), source);
    if (ema) ema->load(ckpt.tensors, "ema.", source);
    load_optimizer_state(optimizer, built.type, model, ckpt.tensors, "optim.", source);
    restore_rng_state(ckpt.tensors, source);
    if (scaler) scaler->load(ckpt.tensors, "scaler.", source);
    info.step = ckpt.info.step;
    info.has_best = ckpt.info.has_best;
    info.best_metric = ckpt.info.best_metric;
    log::info("resuming ", run_dir.string(), " at step ", info.step);
  }
  write_file_atomically(run_dir / "config.yaml", info.config_yaml);

  auto save = [&](const std::string& name) {
    NamedTensors tensors = with_prefix("model.", model_state(model));
    if (ema) for (auto& kv : with_prefix("ema.", ema->state())) tensors.push_back(std::move(kv));
    for (auto& kv : optimizer_state(optimizer, built.type, model, "optim.")) tensors.push_back(std::move(kv));
    for (auto& kv : rng_state()) tensors.push_back(std::move(kv));
    if (scaler) for (auto& kv : scaler->state("scaler.")) tensors.push_back(std::move(kv));
    write_checkpoint(run_dir, name, tensors, info);
  };

  MetricsLog metrics(run_dir / "metrics.jsonl");
  TrainResult result;
  result.metric = task->metric_name();
  result.best_metric = info.best_metric;

  auto evaluate = [&] {
    const double value = task->evaluate();
    result.has_metric = true;
    result.last_metric = value;
    metrics.write({{"step", info.step}, {task->metric_name(), value}});
    log::info("step ", info.step, ": ", task->metric_name(), " ", format_number(value));
    if (!info.has_best || value > info.best_metric) {
      info.has_best = true;
      info.best_metric = value;
      save("best");
    }
    result.best_metric = info.best_metric;
  };

  const int64_t first_step = info.step;
  const int64_t accum = loop.grad_accum;
  BatchSampler sampler(task->train_size(), loop.batch_size, loop.seed);
  const uint64_t seed = loop.seed;
  BatchPrefetcher loader([&task, &sampler, seed](int64_t k) {
                           return task->train_batch(sampler.indices(k), mix_seed(seed, static_cast<uint64_t>(k)));
                         },
                         first_step * accum, loop.steps * accum, static_cast<size_t>(loop.prefetch));

  InterruptGuard interrupt;
  Progress::Options bar_options;
  bar_options.unit = "step";
  if (!options.progress) bar_options.tty = 0;  // not a terminal: draws nothing
  Progress bar(loop.steps, "train", bar_options);
  bar.update(first_step);

  std::vector<torch::Tensor> parameters = model.parameters();
  model.train();
  double window_loss = 0;
  int64_t window_steps = 0;
  bool first_window = true;
  auto window_start = std::chrono::steady_clock::now();
  int64_t saved_at = -1;
  while (info.step < loop.steps) {
    const double lr = schedule.at(info.step);
    set_learning_rate(optimizer, lr);
    optimizer.zero_grad();
    double step_loss = 0;
    for (int64_t a = 0; a < accum; ++a) {
      Batch batch = loader.next();
      batch.inputs = batch.inputs.to(device);
      batch.targets = batch.targets.to(device);
      at::Tensor loss;
      {
        AutocastScope autocast(device, precision.autocast);
        loss = task->loss(batch).to(at::kFloat) / static_cast<double>(accum);
      }
      (scaler ? scaler->scale_loss(loss) : loss).backward();
      step_loss += loss.item<double>();
    }
    if (!std::isfinite(step_loss)) {
      throw Error("non-finite training loss at step " + std::to_string(info.step + 1) +
                  "; stopped, the last good checkpoint is " + (run_dir / "last.safetensors").string());
    }
    // fp16: a step whose unscaled gradients overflowed is skipped (the scaler backs off).
    const bool overflow = scaler && scaler->unscale_and_check(parameters);
    double grad_norm = 0;
    if (!overflow) {
      if (loop.clip_grad_norm > 0) grad_norm = torch::nn::utils::clip_grad_norm_(parameters, loop.clip_grad_norm);
      optimizer.step();
    }
    if (scaler) scaler->update(overflow);
    if (ema) ema->update(model);
    ++info.step;
    window_loss += step_loss;
    ++window_steps;

    if (info.step % loop.log_every == 0 || info.step == loop.steps) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      const double mean = window_loss / static_cast<double>(window_steps);
      const double images_per_s = static_cast<double>(window_steps * accum * loop.batch_size) / std::max(seconds, 1e-9);
      if (first_window) result.first_loss = mean;
      first_window = false;
      result.last_loss = mean;
      json record = {{"step", info.step}, {"loss", mean}, {"lr", lr}, {"img_per_s", images_per_s}};
      if (loop.clip_grad_norm > 0) record["grad_norm"] = grad_norm;
      metrics.write(record);
      bar.set_label("train loss " + format_number(mean) + " lr " + format_number(lr) + " " +
                    format_number(images_per_s) + " img/s");
      window_loss = 0;
      window_steps = 0;
      window_start = std::chrono::steady_clock::now();
    }
    bar.update(info.step);
    if (loop.eval_every > 0 && info.step % loop.eval_every == 0 && info.step < loop.steps) evaluate();
    if (loop.checkpoint_every > 0 && info.step % loop.checkpoint_every == 0) {
      save("last");
      saved_at = info.step;
    }
    if (options.after_step) options.after_step(info.step);
    if (const int signal = InterruptGuard::requested(); signal != 0 && info.step < loop.steps) {
      result.interrupted_by = signal;
      break;
    }
  }
  bar.finish();
  if (!result.interrupted_by) evaluate();
  if (saved_at != info.step) save("last");
  if (result.interrupted_by)
    log::info("interrupted at step ", info.step, "; checkpoint saved, continue with --resume ", run_dir.string());
  result.steps_done = info.step;
  return result;
}

}  // namespace vss
