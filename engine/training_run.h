#pragma once
// A training run up to its first step (engine/trainer.h): the `train:` settings, the device
// (cuda:LOCAL_RANK for a rank of a data-parallel run), the run directory, the process group,
// and the task, optimizer, schedule, EMA and loss scaler built from the config; resume()
// continues it from run_dir/last. The training loop (engine/trainer.cpp) steps it.
#include "core/config.h"
#include "engine/checkpoint.h"
#include "engine/distributed.h"
#include "engine/ema.h"
#include "engine/lr_schedule.h"
#include "engine/mixed_precision.h"
#include "engine/optimizer.h"
#include "engine/trainer.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace vss {

class Task;

// `train:` (engine/trainer.h), checked.
struct LoopSettings {
  int64_t steps, batch_size, grad_accum, log_every, eval_every, checkpoint_every, prefetch, workers;
  uint64_t seed;
  double clip_grad_norm;
  std::string precision;
  bool eval_ema;
  double bucket_mb;
};

struct TrainingRun {
  // Checks the config, the device and the run directory, joins the other ranks, then builds
  // the task (its weights drawn from train.seed), optimizer, schedule and EMA. Every rank
  // checks the same things before joining, so the ranks fail alike.
  TrainingRun(const Config& config, const TrainerOptions& options);
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  // Loads run_dir/last (weights, EMA, optimizer, RNG and loss-scaler state, step, best
  // metric). Errors when that run had another config (train.steps aside: a run may be
  // resumed to train longer) or another number of ranks (the global batch would change).
  void resume(const Config& config);

  LoopSettings loop;
  std::filesystem::path run_dir;
  c10::Device device{c10::kCPU};
  int rank = 0;
  int world = 1;
  bool writer = true;  // only rank 0 writes files and logs
  Precision precision;
  std::optional<GradScaler> scaler;      // fp16
  std::unique_ptr<ProcessGroup> group;  // several ranks
  std::shared_ptr<Task> task;
  BuiltOptimizer optimizer;
  LrSchedule schedule;
  std::optional<ModelEma> ema;
  CheckpointInfo info;  // the step, the best metric and what a checkpoint records
};

}  // namespace vss
