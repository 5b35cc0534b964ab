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
#include "engine/training_run.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

namespace vss {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

NamedTensors with_prefix(const std::string& prefix, const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
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

Progress::Options bar_options(const TrainerOptions& options, bool writer) {
  Progress::Options o;
  o.unit = "step";
  if (!options.progress || !writer) o.tty = 0;  // not a terminal: draws nothing
  return o;
}

// The optimizer steps of a prepared run, from its step to train.steps: owns the loader, the
// progress bar, metrics.jsonl and the gradient reducer; saves `last` and `best`, evaluates,
// logs a line per window of log_every steps, and stops early (saving) when interrupted.
class TrainingLoop {
 public:
  TrainingLoop(TrainingRun& run, const TrainerOptions& options);
  TrainResult run();

 private:
  struct Step {
    double loss;       // the mean over ranks
    double grad_norm;  // before clipping; 0 without clip_grad_norm
    int signal;        // the interrupt any rank was asked for (0: none)
  };
  Step step(double lr);
  void log_window(double lr, double grad_norm);
  void evaluate();
  void save(const std::string& name);

  TrainingRun& run_;
  const TrainerOptions& options_;
  torch::nn::Module& model_;
  std::optional<MetricsLog> metrics_;
  TrainResult result_;
  BatchSampler sampler_;
  std::mutex sampler_mutex_;  // the sampler caches its epoch's permutation
  BatchPrefetcher loader_;
  InterruptGuard interrupt_;
  Progress bar_;
  std::vector<torch::Tensor> parameters_;
  std::optional<GradientReducer> reducer_;
  // The logging window: steps since the last log line.
  double window_loss_ = 0;
  int64_t window_steps_ = 0;
  bool first_window_ = true;
  std::chrono::steady_clock::time_point window_start_;
};

TrainingLoop::TrainingLoop(TrainingRun& run, const TrainerOptions& options)
    : run_(run),
      options_(options),
      model_(run.task->model()),
      metrics_(run.writer ? std::optional<MetricsLog>(std::in_place, run.run_dir / "metrics.jsonl") : std::nullopt),
      sampler_(run.task->train_size(), run.loop.batch_size, run.loop.seed, run.rank, run.world),
      // Augmentation seed of micro-batch k: one per (k, rank), the same as before for one process.
      loader_(
          [this, seed = run.loop.seed, rank = run.rank, world = run.world](int64_t k) {
            std::vector<int64_t> indices;
            {
              std::lock_guard<std::mutex> lock(sampler_mutex_);
              indices = sampler_.indices(k);
            }
            const uint64_t stream =
                static_cast<uint64_t>(k) * static_cast<uint64_t>(world) + static_cast<uint64_t>(rank);
            return run_.task->train_batch(indices, mix_seed(seed, stream));
          },
          run.info.step * run.loop.grad_accum, run.loop.steps * run.loop.grad_accum,
          static_cast<size_t>(std::max(run.loop.prefetch, run.loop.workers)), static_cast<size_t>(run.loop.workers)),
      bar_(run.loop.steps, "train", bar_options(options, run.writer)),
      parameters_(model_.parameters()) {
  result_.metric = run.task->metric_name();
  result_.best_metric = run.info.best_metric;
  bar_.update(run.info.step);
  if (run.group) reducer_.emplace(*run.group, model_, static_cast<int64_t>(run.loop.bucket_mb * 1024 * 1024));
  model_.train();
  window_start_ = std::chrono::steady_clock::now();
}

TrainResult TrainingLoop::run() {
  const LoopSettings& loop = run_.loop;
  CheckpointInfo& info = run_.info;
  int64_t saved_at = -1;
  while (info.step < loop.steps) {
    const double lr = run_.schedule.at(info.step);
    Step done = step(lr);
    window_loss_ += done.loss;
    ++window_steps_;
    if (info.step % loop.log_every == 0 || info.step == loop.steps) log_window(lr, done.grad_norm);
    bar_.update(info.step);
    if (loop.eval_every > 0 && info.step % loop.eval_every == 0 && info.step < loop.steps) evaluate();
    if (loop.checkpoint_every > 0 && info.step % loop.checkpoint_every == 0) {
      save("last");
      saved_at = info.step;
    }
    if (options_.after_step) options_.after_step(info.step);
    if (run_.group == nullptr) done.signal = InterruptGuard::requested();
    if (done.signal != 0 && info.step < loop.steps) {
      result_.interrupted_by = done.signal;
      break;
    }
  }
  bar_.finish();
  if (!result_.interrupted_by) evaluate();
  if (saved_at != info.step) save("last");
  if (result_.interrupted_by && run_.writer)
    log::info("interrupted at step ", info.step, "; checkpoint saved, continue with --resume ", run_.run_dir.string());
  result_.steps_done = info.step;
  return result_;
}

TrainingLoop::Step TrainingLoop::step(double lr) {
  TrainingRun& r = run_;
  // Several ranks: the random stream of each step (drop-path) is a function of (seed, rank,
  // step), which differs between ranks and needs no per-rank state to resume.
  if (r.group) torch::manual_seed(mix_seed(mix_seed(r.loop.seed, 1 + static_cast<uint64_t>(r.rank)), r.info.step));
  torch::optim::Optimizer& optimizer = *r.optimizer.optimizer;
  set_learning_rate(optimizer, lr, r.optimizer.lr_mults);
  optimizer.zero_grad();
  const int64_t accum = r.loop.grad_accum;
  Step done{0, 0, 0};
  for (int64_t a = 0; a < accum; ++a) {
    Batch batch = loader_.next();
    batch.inputs = batch.inputs.to(r.device);
    batch.targets = batch.targets.to(r.device);
    at::Tensor loss;
    {
      AutocastScope autocast(r.device, r.precision.autocast);
      loss = r.task->loss(batch).to(at::kFloat) / static_cast<double>(accum);
    }
    if (reducer_) reducer_->prepare(a + 1 == accum);
    (r.scaler ? r.scaler->scale_loss(loss) : loss).backward();
    done.loss += loss.item<double>();
  }
  done.signal = InterruptGuard::requested();
  if (r.group) {
    reducer_->finish();
    // The ranks agree on the step's loss (the mean over ranks, as one process would see it)
    // and on whether any rank was asked to stop, so all of them stop at the same step.
    // Double: the logged loss is then exactly what one process accumulating the ranks'
    // micro-batches would log.
    std::vector<double> local(static_cast<size_t>(1 + r.world), 0.0);
    local[0] = done.loss;
    local[static_cast<size_t>(1 + r.rank)] = done.signal;
    at::Tensor stats = torch::tensor(local, torch::kDouble).to(r.device);
    r.group->all_reduce_sum(stats)->wait();
    const at::Tensor summed = stats.cpu();
    done.loss = summed[0].item<double>() / r.world;
    for (int rank = 0; rank < r.world && done.signal == 0; ++rank)
      done.signal = static_cast<int>(summed[1 + rank].item<double>());
  }
  if (!std::isfinite(done.loss)) {
    throw Error("non-finite training loss at step " + std::to_string(r.info.step + 1) +
                "; stopped, the last good checkpoint is " + (r.run_dir / "last.safetensors").string());
  }
  // fp16: a step whose unscaled gradients overflowed is skipped (the scaler backs off).
  const bool overflow = r.scaler && r.scaler->unscale_and_check(parameters_);
  if (!overflow) {
    if (r.loop.clip_grad_norm > 0)
      done.grad_norm = torch::nn::utils::clip_grad_norm_(parameters_, r.loop.clip_grad_norm);
    optimizer.step();
  }
  if (r.scaler) r.scaler->update(overflow);
  if (r.ema) r.ema->update(model_);
  ++r.info.step;
  return done;
}

void TrainingLoop::log_window(double lr, double grad_norm) {
  const LoopSettings& loop = run_.loop;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start_).count();
  const double mean = window_loss_ / static_cast<double>(window_steps_);
  const double images_per_s =
      static_cast<double>(window_steps_ * loop.grad_accum * loop.batch_size * run_.world) / std::max(seconds, 1e-9);
  if (first_window_) result_.first_loss = mean;
  first_window_ = false;
  result_.last_loss = mean;
  json record = {{"step", run_.info.step}, {"loss", mean}, {"lr", lr}, {"img_per_s", images_per_s}};
  if (loop.clip_grad_norm > 0) record["grad_norm"] = grad_norm;
  if (metrics_) metrics_->write(record);
  bar_.set_label("train loss " + format_number(mean) + " lr " + format_number(lr) + " " +
                 format_number(images_per_s) + " img/s");
  window_loss_ = 0;
  window_steps_ = 0;
  window_start_ = std::chrono::steady_clock::now();
}

// Rank 0 evaluates the whole validation set while the others wait at their next collective.
void TrainingLoop::evaluate() {
  if (!run_.writer) return;
  CheckpointInfo& info = run_.info;
  Task& task = *run_.task;
  double value;
  if (run_.loop.eval_ema) {
    EmaWeightsInModel swapped(model_, *run_.ema);
    value = task.evaluate();
  } else {
    value = task.evaluate();
  }
  result_.has_metric = true;
  result_.last_metric = value;
  metrics_->write({{"step", info.step}, {task.metric_name(), value}});
  log::info("step ", info.step, ": ", task.metric_name(), run_.loop.eval_ema ? " (EMA) " : " ", format_number(value));
  if (!info.has_best || value > info.best_metric) {
    info.has_best = true;
    info.best_metric = value;
    save("best");
  }
  result_.best_metric = info.best_metric;
}

void TrainingLoop::save(const std::string& name) {
  if (!run_.writer) return;
  NamedTensors tensors = with_prefix("model.", model_state(model_));
  if (run_.ema) for (auto& kv : with_prefix("ema.", run_.ema->state())) tensors.push_back(std::move(kv));
  for (auto& kv : optimizer_state(*run_.optimizer.optimizer, run_.optimizer.type, model_, "optim."))
    tensors.push_back(std::move(kv));
  for (auto& kv : rng_state()) tensors.push_back(std::move(kv));
  if (run_.scaler) for (auto& kv : run_.scaler->state("scaler.")) tensors.push_back(std::move(kv));
  if (run_.world > 1) tensors.emplace_back("train.world_size", torch::tensor(int64_t{run_.world}));
  write_checkpoint(run_.run_dir, name, tensors, run_.info);
}

}  // namespace

TrainResult train(const Config& config, const TrainerOptions& options) {
  TrainingRun run(config, options);
  if (options.resume) run.resume(config);
  if (run.writer) write_file_atomically(run.run_dir / "config.yaml", run.info.config_yaml);
  return TrainingLoop(run, options).run();
}

}  // namespace vss
