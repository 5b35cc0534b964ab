// vss-segment export: a vss-train run's segmentor as a bare weights file.
#include "apps/segment/commands.h"
#include "backbones/weights.h"
#include "engine/run_export.h"
#include "heads/seg/segmentor.h"

#include <cstdio>

namespace vss_segment {

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-segment export",
                                       "Writes the model weights of a vss-train run (task: segmentation) as a bare "
                                       "safetensors state dict for vss-segment --weights (with the run's config as "
                                       "--config).",
                                       "last", &rc);
  if (!e) return rc;
  vss::seg::Segmentor model = vss::seg::make_segmentor(e->config["model"]);
  vss::load_state(*model, e->weights.state, e->source);
  vss::save_weights(*model, e->out, {{"model", e->config["model"].dump()}, {"step", std::to_string(e->step)}});
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

}  // namespace vss_segment
