// vss-track export-mtp: a vss-train run's motion predictor as a weights file.
#include "apps/track/commands.h"
#include "backbones/weights.h"
#include "engine/run_export.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_weights.h"

#include <cstdio>

namespace vss_track {

int run_export_mtp(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-track export-mtp",
                                       "Writes the MTP weights of a vss-train run (task: motion) as a self-describing "
                                       "safetensors file for vss-track --weights.",
                                       "best", &rc);
  if (!e) return rc;
  vss::track::MambaMotionPredictor model(vss::track::mtp_options(e->config["model"]));
  vss::load_state(*model, e->weights.state, e->source);
  vss::track::save_mtp(model, e->out);
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

}  // namespace vss_track
