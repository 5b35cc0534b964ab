// vss-detect export: a vss-train run's detector as a self-describing weights file.
#include "apps/detect/commands.h"
#include "backbones/weights.h"
#include "engine/run_export.h"
#include "heads/detect/centernet.h"
#include "heads/detect/detector_weights.h"

#include <cstdio>

namespace vss_detect {

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-detect export",
                                       "Writes the detector of a vss-train run (task: detection) as a self-describing "
                                       "safetensors file for vss-detect / vss-track --detector.",
                                       "best", &rc);
  if (!e) return rc;
  vss::detect::CenterNet model = vss::detect::make_centernet(e->config["model"]);
  vss::load_state(*model, e->weights.state, e->source);
  vss::detect::save_detector(model, e->config["model"].dump(), e->out);
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

}  // namespace vss_detect
