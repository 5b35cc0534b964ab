#include "engine/training_run.h"

#include "backbones/weights.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/data_parallel.h"
#include "engine/device_options.h"
#include "engine/task.h"

#include <torch/torch.h>

#include <map>
#include <vector>

namespace vss {
namespace {

namespace fs = std::filesystem;

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

NamedTensors select_prefix(const std::string& prefix, const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

}  // namespace

TrainingRun::TrainingRun(const Config& config, const TrainerOptions& options) : run_dir(options.run_dir) {
  config.check_keys({"task", "model", "data", "optimizer", "schedule", "ema", "train"});
  loop = read_loop_settings(config["train"]);
  const bool distributed = options.distributed && options.distributed->world_size > 1;
  rank = distributed ? options.distributed->rank : 0;
  world = distributed ? options.distributed->world_size : 1;
  writer = rank == 0;
  device = parse_device(options.device);
  require_device(device, options.device);
  if (distributed && device.is_cuda()) {
    if (device.has_index())
      throw Error("--device " + options.device + ": with several ranks pass --device cuda (rank r uses cuda:LOCAL_RANK)");
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(options.distributed->local_rank));
    if (device.index() >= static_cast<int>(torch::cuda::device_count()))
      throw Error("LOCAL_RANK=" + std::to_string(device.index()) + " but only " +
                  std::to_string(torch::cuda::device_count()) + " CUDA devices are visible");
  }
  if (loop.eval_ema && !config.has("ema")) config["train"]["eval_ema"].fail("needs an `ema:` section to evaluate");

  if (options.resume) {
    if (!fs::is_directory(run_dir)) throw_file_error(run_dir.string(), "resume directory does not exist");
  } else {
    if (fs::exists(run_dir / "last.json"))
      throw_file_error(run_dir.string(), "already holds a run (last.json); pass --resume to continue it or pick another --work-dir");
  }

  try {
    precision = parse_precision(loop.precision, device);
  } catch (const Error& e) {
    config["train"]["precision"].fail(e.what());
  }
  if (precision.name == "fp16") scaler.emplace();

  // Joins the other ranks (every rank checked the same things above, so they fail alike).
  if (distributed) group = std::make_unique<ProcessGroup>(*options.distributed, device);
  if (writer && !options.resume) fs::create_directories(run_dir);

  torch::manual_seed(loop.seed);
  task = make_task(config, device);
  torch::nn::Module& model = task->model();
  if (group) broadcast_model_state(*group, model);
  optimizer = make_optimizer(config["optimizer"], model);
  schedule = config.has("schedule")
                 ? LrSchedule::from_config(config["schedule"], config["optimizer"].get<double>("lr"), loop.steps)
                 : LrSchedule{LrSchedule::Kind::Constant, config["optimizer"].get<double>("lr"), loop.steps};
  if (config.has("ema")) {
    config["ema"].check_keys({"decay"});
    ema.emplace(model, config["ema"].get<double>("decay"));
  }

  info.metric = task->metric_name();
  info.optimizer = optimizer.type;
  info.config_yaml = config.dump();
  info.classes = task->class_names();
}

void TrainingRun::resume(const Config& config) {
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
  torch::nn::Module& model = task->model();
  load_state(model, select_prefix("model.", ckpt.tensors), source);
  if (ema) ema->load(ckpt.tensors, "ema.", source);
  load_optimizer_state(*optimizer.optimizer, optimizer.type, model, ckpt.tensors, "optim.", source);
  restore_rng_state(ckpt.tensors, source);
  if (scaler) scaler->load(ckpt.tensors, "scaler.", source);
  info.step = ckpt.info.step;
  info.has_best = ckpt.info.has_best;
  info.best_metric = ckpt.info.best_metric;
  if (writer) log::info("resuming ", run_dir.string(), " at step ", info.step);
}

}  // namespace vss
