#include "engine/run_export.h"

#include "core/cli.h"
#include "core/overwrite_guard.h"

#include <torch/nn/module.h>

namespace vss {

std::string RunExport::summary(const torch::nn::Module& model) const {
  int64_t params = 0;
  for (const auto& t : model.parameters()) params += t.numel();
  return "wrote " + out + " (" + (weights.ema() ? "EMA" : "raw") + " weights of step " + std::to_string(step) + ", " +
         std::to_string(params) + " parameters)";
}

std::optional<RunExport> parse_run_export(const std::vector<std::string>& args, const std::string& prog,
                                          const std::string& description, const std::string& default_checkpoint,
                                          int* rc) {
  ArgParser p(prog, description);
  auto& run_dir = p.option("--run", "DIR", "", "vss-train run directory", true);
  auto& name = p.option("--checkpoint", "NAME", default_checkpoint, "checkpoint in the run: best or last");
  auto& raw = p.flag("--no-ema", "export the raw weights even when the run kept an EMA");
  auto& out = p.option("--out", "FILE", "", "output .safetensors", true);
  if (*rc = p.parse(args); *rc >= 0) return std::nullopt;
  *rc = 0;
  const std::filesystem::path run = run_dir.str();
  refuse_overwriting_inputs({out.str()}, {run / (name.str() + ".safetensors"), run / (name.str() + ".json")},
                            "give --out a name outside the checkpoint");
  const Checkpoint ckpt = read_checkpoint(run, name.str());
  RunExport e{out.str(), Config::parse(ckpt.info.config_yaml, run_dir.str() + "/" + name.str() + ".json"),
              checkpoint_weights(ckpt, raw), ckpt.info.step, "", ckpt.info.classes};
  e.source = run_dir.str() + "/" + name.str() + ".safetensors (" + e.weights.prefix + "*)";
  return e;
}

}  // namespace vss
