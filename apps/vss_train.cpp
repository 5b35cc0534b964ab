// vss-train: trains a model from a YAML config (engine/trainer.h), keeping `last` / `best`
// checkpoints and metrics.jsonl in the run directory; --resume continues a run exactly.
// Data-parallel: `--gpus N` starts N ranks of itself (engine/rank_launcher.h), or a launcher
// such as torchrun sets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT.
// Exit codes: 0 done, 1 runtime error, 2 usage error, 128 + signal after SIGINT / SIGTERM
// (the checkpoint of the last finished step is saved first); with --gpus, the first failing
// rank's code.
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/device_options.h"
#include "engine/distributed.h"
#include "engine/rank_launcher.h"
#include "engine/trainer.h"

#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

int run(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-train", "Trains a model from a YAML config; --resume continues a run bit-for-bit.");
  auto& config = p.option("--config", "FILE", "", "training YAML (configs/train/*.yaml); default with --resume: the run's config.yaml");
  auto& sets = p.multi("--set", "key=value", "override a config key");
  auto& resume = p.option("--resume", "RUN_DIR", "", "continue the run in RUN_DIR from its last checkpoint");
  auto& work_dir = p.option("--work-dir", "DIR", "", "run directory (default: runs/<config name>)");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cpu", "where to train");
  auto& gpus = p.option("--gpus", "N", "1",
                        "data-parallel over N processes, one per GPU (cuda:0 .. N-1; with --device cpu: N CPU "
                        "processes over gloo); train.batch_size is per process");
  auto& quiet = p.flag("--quiet", "errors only, no progress bar");
  if (int rc = p.parse(args); rc >= 0) return rc;

  vss::log::set_program("vss-train");
  vss::log::set_quiet(quiet);
  auto usage = [](const std::string& what) {
    std::fprintf(stderr, "vss-train: %s\ntry --help\n", what.c_str());
    return 2;
  };
  const long long num_gpus = gpus.as_int();
  if (num_gpus < 1) return usage("--gpus: expected N >= 1, got " + gpus.str());
  // A rank of a data-parallel run (started by --gpus or by torchrun): only rank 0 talks.
  const std::optional<vss::DistributedEnv> dist = vss::distributed_env_from_environment();
  if (dist && dist->world_size > 1) {
    if (gpus && num_gpus != dist->world_size)
      return usage("--gpus " + gpus.str() + " but WORLD_SIZE=" + std::to_string(dist->world_size));
    if (dist->rank != 0) {
      vss::log::set_program("vss-train[rank " + std::to_string(dist->rank) + "]");
      vss::log::set_quiet(true);
    }
  }
  if (!config && !resume) return usage("--config FILE is required (or --resume RUN_DIR)");
  if (resume && work_dir && work_dir.str() != resume.str()) return usage("--work-dir and --resume name different runs");
  const c10::Device d = vss::parse_device(device.str());
  const std::filesystem::path config_file =
      config ? std::filesystem::path(config.str()) : std::filesystem::path(resume.str()) / "config.yaml";
  vss::Config node = vss::Config::load(config_file);
  for (const auto& s : sets.values) node.apply_override(s);
  // Launcher: the config is read once here first, so a bad file is reported once.
  if (num_gpus > 1 && !dist) {
    if (d.is_cuda() && d.has_index())
      return usage("--gpus " + gpus.str() + " uses cuda:0 .. " + std::to_string(num_gpus - 1) + "; pass --device cuda");
    if (d.is_cuda() && static_cast<long long>(torch::cuda::device_count()) < num_gpus)
      throw vss::Error("--gpus " + gpus.str() + " but " + std::to_string(torch::cuda::device_count()) +
                       " CUDA device(s) are visible");
    if (!vss::distributed_backend_available(d))
      throw vss::Error(std::string("--gpus: this build has no ") + (d.is_cuda() ? "NCCL" : "gloo") +
                       " backend (gloo needs libgloo-dev's headers at build time)");
    return vss::launch_ranks(args, static_cast<int>(num_gpus));
  }


  vss::TrainerOptions options;
  options.device = device.str();
  options.resume = resume;
  options.distributed = dist;
  options.progress = !dist || dist->rank == 0;
  options.run_dir = resume ? std::filesystem::path(resume.str())
                    : work_dir ? std::filesystem::path(work_dir.str())
                               : std::filesystem::path("runs") / config_file.stem();
  const vss::TrainResult result = vss::train(node, options);
  if (result.has_metric)
    vss::log::info("done at step ", result.steps_done, ": ", result.metric, " ", result.last_metric, " (best ",
                   result.best_metric, "), run directory ", options.run_dir.string());
  return result.interrupted_by ? 128 + result.interrupted_by : 0;
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-train", argc, argv, run); }
