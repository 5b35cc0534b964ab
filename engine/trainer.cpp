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
#include "engine/data_parallel.h"
#include "engine/distributed.h"
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
#include <mutex>
#include <optional>
#include <sstream>

namespace vss {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct LoopSettings {
  int64_t steps, batch_size, grad_accum, log_every, eval_every, checkpoint_every, prefetch, workers;
  uint64_t seed;
  double clip_grad_norm;
  std::string precision;
  bool eval_ema;
  double bucket_mb;
};

LoopSettings read_loop_settings(const Config& train) {
  train.check_keys({"steps", "batch_size", "grad_accum", "clip_grad_norm", "seed", "log_every", "eval_every",
                    "checkpoint_every", "prefetch", "precision", "eval_ema", "bucket_mb", "workers"});
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
  s.workers = train.get_or<int64_t>("workers", 1);
  s.precision = train.get_or<std::string>("precision", "fp32");
  s.eval_ema = train.get_or<bool>("eval_ema", false);
  s.bucket_mb = train.get_or<double>("bucket_mb", 25.0);
  auto positive = [&](const char* key, int64_t v) {
    if (v < 1) train[key].fail("must be >= 1, got " + std::to_string(v));
  };
  positive("steps", s.steps);
  positive("batch_size", s.batch_size);
  positive("grad_accum", s.grad_accum);
  positive("log_every", s.log_every);
  positive("prefetch", s.prefetch);
  positive("workers", s.workers);
  if (s.clip_grad_norm < 0) train["clip_grad_norm"].fail("must be >= 0 (0: off)");
  if (s.eval_every < 0) train["eval_every"].fail("must be >= 0 (0: only at the end)");
  if (s.checkpoint_every < 0) train["checkpoint_every"].fail("must be >= 0 (0: only at the end)");
  if (!(s.bucket_mb > 0)) train["bucket_mb"].fail("must be > 0 (MB of gradients per all-reduce)");
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

// The model's weights replaced by the EMA's for as long as it lives (evaluating the EMA).
class EmaWeightsInModel {
 public:
  EmaWeightsInModel(torch::nn::Module& model, const ModelEma& ema) : model_(model) {
    for (const auto& [name, t] : model_state(model)) saved_.emplace_back(name, t.detach().clone());
    load_state(model_, ema.state(), "the EMA weights");
  }
  ~EmaWeightsInModel() { load_state(model_, saved_, "the training weights"); }
  EmaWeightsInModel(const EmaWeightsInModel&) = delete;
  EmaWeightsInModel& operator=(const EmaWeightsInModel&) = delete;

 private:
  torch::nn::Module& model_;
  NamedTensors saved_;
};

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
  const bool distributed = options.distributed && options.distributed->world_size > 1;
  const int rank = distributed ? options.distributed->rank : 0;
  const int world = distributed ? options.distributed->world_size : 1;
  const bool writer = rank == 0;  // only rank 0 writes files and logs
  c10::Device device(options.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("--device " + options.device + ": no CUDA device is available");
  if (distributed && device.is_cuda()) {
    if (device.has_index())
      throw Error("--device " + options.device + ": with several ranks pass --device cuda (rank r uses cuda:LOCAL_RANK)");
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(options.distributed->local_rank));
    if (device.index() >= static_cast<int>(torch::cuda::device_count()))
      throw Error("LOCAL_RANK=" + std::to_string(device.index()) + " but only " +
                  std::to_string(torch::cuda::device_count()) + " CUDA devices are visible");
  }
  if (loop.eval_ema && !config.has("ema")) config["train"]["eval_ema"].fail("needs an `ema:` section to evaluate");

  const fs::path& run_dir = options.run_dir;
  if (options.resume) {
    if (!fs::is_directory(run_dir)) throw_file_error(run_dir.string(), "resume directory does not exist");
  } else {
    if (fs::exists(run_dir / "last.json"))
      throw_file_error(run_dir.string(), "already holds a run (last.json); pass --resume to continue it or pick another --work-dir");
  }

  Precision precision;
  try {
    precision = parse_precision(loop.precision, device);
  } catch (const Error& e) {
    config["train"]["precision"].fail(e.what());
  }
  std::optional<GradScaler> scaler;
  if (precision.name == "fp16") scaler.emplace();

  // Joins the other ranks (every rank checked the same things above, so they fail alike).
  std::unique_ptr<ProcessGroup> group;
  if (distributed) group = std::make_unique<ProcessGroup>(*options.distributed, device);
  if (writer && !options.resume) fs::create_directories(run_dir);

  torch::manual_seed(loop.seed);
  std::shared_ptr<Task> task = make_task(config, device);
  torch::nn::Module& model = task->model();
  if (group) broadcast_model_state(*group, model);
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
  info.classes = task->class_names();
  if (options.resume) {
    Checkpoint ckpt = read_checkpoint(run_dir, "last");
    const std::string source = (run_dir / "last.safetensors").string();
    const auto differ = differing_keys(Config::parse(ckpt.info.config_yaml, (run_dir / "last.json").string()), config);
    if (!differ.empty()) {
      std::string list;
      for (const auto& k : differ) list += (list.empty() ? "" : ", ") + k;
      throw_file_error(run_dir.string(), "was trained with a different config (differing keys: " + list + ")");
    }
    // The number of ranks is part of the run: it multiplies the global batch.
    int64_t saved_world = 1;
    for (const auto& [name, t] : ckpt.tensors)
      if (name == "train.world_size") saved_world = t.item<int64_t>();
    if (saved_world != world)
      throw_file_error(run_dir.string(), "was trained with " + std::to_string(saved_world) + " rank(s), not " +
                                             std::to_string(world) + " (the global batch would change)");
    load_state(model, select_prefix("model.", ckpt.tensors), source);
    if (ema) ema->load(ckpt.tensors, "ema.", source);
    load_optimizer_state(optimizer, built.type, model, ckpt.tensors, "optim.", source);
    restore_rng_state(ckpt.tensors, source);
    if (scaler) scaler->load(ckpt.tensors, "scaler.", source);
    info.step = ckpt.info.step;
    info.has_best = ckpt.info.has_best;
    info.best_metric = ckpt.info.best_metric;
    if (writer) log::info("resuming ", run_dir.string(), " at step ", info.step);
  }
  if (writer) write_file_atomically(run_dir / "config.yaml", info.config_yaml);

  auto save = [&](const std::string& name) {
    if (!writer) return;
    NamedTensors tensors = with_prefix("model.", model_state(model));
    if (ema) for (auto& kv : with_prefix("ema.", ema->state())) tensors.push_back(std::move(kv));
    for (auto& kv : optimizer_state(optimizer, built.type, model, "optim.")) tensors.push_back(std::move(kv));
    for (auto& kv : rng_state()) tensors.push_back(std::move(kv));
    if (scaler) for (auto& kv : scaler->state("scaler.")) tensors.push_back(std::move(kv));
    if (world > 1) tensors.emplace_back("train.world_size", torch::tensor(int64_t{world}));
    write_checkpoint(run_dir, name, tensors, info);
  };

  std::optional<MetricsLog> metrics;
  if (writer) metrics.emplace(run_dir / "metrics.jsonl");
  TrainResult result;
  result.metric = task->metric_name();
  result.best_metric = info.best_metric;

  // Rank 0 evaluates the whole validation set while the others wait at their next collective.
  auto evaluate = [&] {
    if (!writer) return;
    double value;
    if (loop.eval_ema) {
      EmaWeightsInModel swapped(model, *ema);
      value = task->evaluate();
    } else {
      value = task->evaluate();
    }
    result.has_metric = true;
    result.last_metric = value;
    metrics->write({{"step", info.step}, {task->metric_name(), value}});
    log::info("step ", info.step, ": ", task->metric_name(), loop.eval_ema ? " (EMA) " : " ", format_number(value));
    if (!info.has_best || value > info.best_metric) {
      info.has_best = true;
      info.best_metric = value;
      save("best");
    }
    result.best_metric = info.best_metric;
  };

  const int64_t first_step = info.step;
  const int64_t accum = loop.grad_accum;
  BatchSampler sampler(task->train_size(), loop.batch_size, loop.seed, rank, world);
  const uint64_t seed = loop.seed;
  // Augmentation seed of micro-batch k: one per (k, rank), the same as before for one process.
  std::mutex sampler_mutex;  // the sampler caches its epoch's permutation
  BatchPrefetcher loader(
      [&task, &sampler, &sampler_mutex, seed, rank, world](int64_t k) {
        std::vector<int64_t> indices;
        {
          std::lock_guard<std::mutex> lock(sampler_mutex);
          indices = sampler.indices(k);
        }
        const uint64_t stream = static_cast<uint64_t>(k) * static_cast<uint64_t>(world) + static_cast<uint64_t>(rank);
        return task->train_batch(indices, mix_seed(seed, stream));
      },
      first_step * accum, loop.steps * accum, static_cast<size_t>(std::max(loop.prefetch, loop.workers)),
      static_cast<size_t>(loop.workers));

  InterruptGuard interrupt;
  Progress::Options bar_options;
  bar_options.unit = "step";
  if (!options.progress || !writer) bar_options.tty = 0;  // not a terminal: draws nothing
  Progress bar(loop.steps, "train", bar_options);
  bar.update(first_step);

  std::vector<torch::Tensor> parameters = model.parameters();
  std::optional<GradientReducer> reducer;
  if (group) reducer.emplace(*group, model, static_cast<int64_t>(loop.bucket_mb * 1024 * 1024));
  model.train();
  double window_loss = 0;
  int64_t window_steps = 0;
  bool first_window = true;
  auto window_start = std::chrono::steady_clock::now();
  int64_t saved_at = -1;
  while (info.step < loop.steps) {
    // Several ranks: the random stream of each step (drop-path) is a function of (seed, rank,
    // step), which differs between ranks and needs no per-rank state to resume.
    if (group) torch::manual_seed(mix_seed(mix_seed(loop.seed, 1 + static_cast<uint64_t>(rank)), info.step));
    const double lr = schedule.at(info.step);
    set_learning_rate(optimizer, lr, built.lr_mults);
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
      if (reducer) reducer->prepare(a + 1 == accum);
      (scaler ? scaler->scale_loss(loss) : loss).backward();
      step_loss += loss.item<double>();
    }
    int signal = InterruptGuard::requested();
    if (group) {
      reducer->finish();
      // The ranks agree on the step's loss (the mean over ranks, as one process would see it)
      // and on whether any rank was asked to stop, so all of them stop at the same step.
      // Double: the logged loss is then exactly what one process accumulating the ranks'
      // micro-batches would log.
      std::vector<double> local(static_cast<size_t>(1 + world), 0.0);
      local[0] = step_loss;
      local[static_cast<size_t>(1 + rank)] = signal;
      at::Tensor stats = torch::tensor(local, torch::kDouble).to(device);
      group->all_reduce_sum(stats)->wait();
      const at::Tensor summed = stats.cpu();
      step_loss = summed[0].item<double>() / world;
      for (int r = 0; r < world && signal == 0; ++r) signal = static_cast<int>(summed[1 + r].item<double>());
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
      const double images_per_s =
          static_cast<double>(window_steps * accum * loop.batch_size * world) / std::max(seconds, 1e-9);
      if (first_window) result.first_loss = mean;
      first_window = false;
      result.last_loss = mean;
      json record = {{"step", info.step}, {"loss", mean}, {"lr", lr}, {"img_per_s", images_per_s}};
      if (loop.clip_grad_norm > 0) record["grad_norm"] = grad_norm;
      if (metrics) metrics->write(record);
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
    if (group == nullptr) signal = InterruptGuard::requested();
    if (signal != 0 && info.step < loop.steps) {
      result.interrupted_by = signal;
      break;
    }
  }
  bar.finish();
  if (!result.interrupted_by) evaluate();
  if (saved_at != info.step) save("last");
  if (result.interrupted_by && writer)
    log::info("interrupted at step ", info.step, "; checkpoint saved, continue with --resume ", run_dir.string());
  result.steps_done = info.step;
  return result;
}

}  // namespace vss
