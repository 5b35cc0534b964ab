#pragma once
// The training loop: builds task (model, data, loss, metric), optimizer, schedule and EMA
// from the config, trains `train.steps` optimizer steps, evaluates every `train.eval_every`,
// logs `metrics.jsonl`, keeps `last` and `best` checkpoints in the run directory, and
// resumes bit-for-bit from `last`. YAML (besides task / model / data / optimizer):
//   schedule: {type: cosine, warmup_steps: 20}          # engine/lr_schedule.h
//   ema: {decay: 0.999}                                 # optional
//   train: {steps: 300, batch_size: 32, grad_accum: 1, clip_grad_norm: 1.0, seed: 0,
//           log_every: 10, eval_every: 100, checkpoint_every: 100, prefetch: 4,
//           precision: fp32,                             # bf16 | fp16 (CUDA): engine/mixed_precision.h
//           workers: 1,          # loader threads: > 1 needs a task whose train_batch is thread-safe
//           eval_ema: false,     # evaluate, and pick `best` on, the EMA weights (needs `ema:`)
//           bucket_mb: 25}       # data-parallel: gradient bucket size of one all-reduce
// Data-parallel (options.distributed with world_size > 1): every rank runs this function;
// batch_size is per rank (the global batch is world_size times it), gradients are averaged
// over ranks (engine/data_parallel.h), and only rank 0 evaluates and writes anything (logs,
// metrics.jsonl, checkpoints). The ranks agree every step on the loss and on interrupts, so
// they stop, save and fail at the same step.
#include "core/config.h"
#include "engine/distributed.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace vss {

struct TrainerOptions {
  std::filesystem::path run_dir;
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1"
  bool resume = false;         // continue from run_dir/last
  bool progress = true;        // progress bar (only drawn on a terminal)
  // Set: this process is one rank of a data-parallel run (device "cuda" means cuda:local_rank).
  std::optional<DistributedEnv> distributed;
  // Called after each optimizer step with the number of steps done (tests raise signals here).
  std::function<void(int64_t steps_done)> after_step;
};

struct TrainResult {
  int64_t steps_done = 0;
  int interrupted_by = 0;   // the signal that stopped the run early, 0 if it finished
  double last_loss = 0;     // mean training loss of the last logged window
  double first_loss = 0;    // mean training loss of the first logged window
  bool has_metric = false;
  double last_metric = 0;   // the last evaluation (always run at the end)
  double best_metric = 0;
  std::string metric;
};

// Errors (bad config, a resume directory from another config, a non-finite loss) are
// vss::Error with one line naming the file / key / step.
TrainResult train(const Config& config, const TrainerOptions& options);

}  // namespace vss
