#pragma once
// The `export` sub-command of every task app (vss-segment / vss-restore / vss-change export,
// vss-track export-mtp): `--run DIR [--checkpoint NAME] [--no-ema] --out FILE` picks a
// checkpoint of a vss-train run and hands back its resolved config and model weights; the app
// builds its network from the config, loads them and writes its own weights format.
#include "core/config.h"
#include "engine/checkpoint.h"

#include <optional>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace vss {

struct RunExport {
  std::string out;            // --out
  Config config;              // the run's resolved config
  CheckpointWeights weights;  // the EMA's unless --no-ema (or the run kept none)
  int64_t step = 0;
  std::string source;         // "<run>/<name>.safetensors (ema.*)", for load errors
  std::vector<std::string> classes;  // a classifier's class names, when the run's data named them

  // "wrote OUT (EMA weights of step N, P parameters)"
  std::string summary(const torch::nn::Module& model) const;
};

// Parses the options; returns nothing after --help or a usage error, with the exit code in *rc.
// Errors reading the run (missing checkpoint, broken files) are vss::Error naming the file.
std::optional<RunExport> parse_run_export(const std::vector<std::string>& args, const std::string& prog,
                                          const std::string& description, const std::string& default_checkpoint,
                                          int* rc);

}  // namespace vss
