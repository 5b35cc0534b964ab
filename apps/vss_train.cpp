// vss-train: trains a model from a YAML config (engine/trainer.h), keeping `last` / `best`
// checkpoints and metrics.jsonl in the run directory; --resume continues a run exactly.
// Exit codes: 0 done, 1 runtime error, 2 usage error, 128 + signal after SIGINT / SIGTERM
// (the checkpoint of the last finished step is saved first).
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/trainer.h"

#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

int run(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-train", "Trains a model from a YAML config; --resume continues a run bit-for-bit.");
  auto& config = p.option("--config", "FILE", "", "training YAML (configs/train/*.yaml); default with --resume: the run's config.yaml");
  auto& sets = p.multi("--set", "key=value", "override a config key (repeatable)");
  auto& resume = p.option("--resume", "RUN_DIR", "", "continue the run in RUN_DIR from its last checkpoint");
  auto& work_dir = p.option("--work-dir", "DIR", "", "run directory (default: runs/<config name>)");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cpu", "where to train");
  auto& quiet = p.flag("--quiet", "errors only, no progress bar");
  if (int rc = p.parse(args); rc >= 0) return rc;

  vss::log::set_program("vss-train");
  vss::log::set_quiet(quiet);
  auto usage = [](const std::string& what) {
    std::fprintf(stderr, "vss-train: %s\ntry --help\n", what.c_str());
    return 2;
  };
  if (!config && !resume) return usage("--config FILE is required (or --resume RUN_DIR)");
  if (resume && work_dir && work_dir.str() != resume.str()) return usage("--work-dir and --resume name different runs");
  try {
    (void)c10::Device(device.str());
  } catch (const c10::Error&) {
    return usage("--device: expected cpu or cuda[:i], got '" + device.str() + "'");
  }

  const std::filesystem::path config_file =
      config ? std::filesystem::path(config.str()) : std::filesystem::path(resume.str()) / "config.yaml";
  vss::Config node = vss::Config::load(config_file);
  for (const auto& s : sets.values) node.apply_override(s);

  vss::TrainerOptions options;
  options.device = device.str();
  options.resume = resume;
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
