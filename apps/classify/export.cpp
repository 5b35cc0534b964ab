// vss-classify export: a vss-train run's classifier with its config, class names and eval
// transform.
#include "apps/classify/commands.h"
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "engine/classifier_loader.h"
#include "engine/run_export.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <memory>

namespace vss_classify {

using json = nlohmann::json;

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-classify export",
                                       "Writes the classifier of a vss-train run (task: classification) as safetensors "
                                       "that carry its model config, class names and eval transform.",
                                       "best", &rc);
  if (!e) return rc;
  auto model = std::dynamic_pointer_cast<vss::VSSM>(vss::make_backbone(e->config["model"]));
  if (!model || model->is_dense_backbone()) e->config["model"].fail("the run's model is not a VSSM classifier");
  vss::load_state(*model, e->weights.state, e->source);
  std::map<std::string, std::string> metadata{{"model", e->config["model"].dump()}, {"step", std::to_string(e->step)}};
  if (!e->classes.empty()) metadata[vss::kClassesMetadata] = json(e->classes).dump();
  const vss::Config data = e->config["data"];
  if (data.has("pipeline")) metadata[vss::kPipelineMetadata] = data["pipeline"].dump();
  vss::save_weights(*model, e->out, metadata);
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

}  // namespace vss_classify
