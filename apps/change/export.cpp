// vss-change export: a vss-train run's change model as a bare weights file.
#include "apps/change/commands.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "engine/run_export.h"
#include "heads/change/mamba_bcd.h"
#include "heads/change/mamba_scd.h"

#include <torch/torch.h>

#include <cstdio>
#include <memory>

namespace vss_change {

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-change export",
                                       "Writes the model weights of a vss-train run (task: change or semantic_change) "
                                       "as a bare safetensors state dict for vss-change --weights (with the run's "
                                       "config as --config).",
                                       "best", &rc);
  if (!e) return rc;
  const vss::Config node = e->config["model"];
  std::shared_ptr<torch::nn::Module> model;
  if (model_type(node) == "mamba_scd") model = vss::change::make_mamba_scd(node).ptr();
  else model = vss::change::make_mamba_bcd(node).ptr();
  vss::load_state(*model, e->weights.state, e->source);
  vss::save_weights(*model, e->out, {{"model", node.dump()}});
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

}  // namespace vss_change
