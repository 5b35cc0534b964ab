#include "backbones/backbone_registry.h"

#include "backbones/vssm.h"

#include <torch/torch.h>

namespace vss {

Registry<Backbone>& backbone_registry() {
  static Registry<Backbone> registry = [] {
    Registry<Backbone> r("backbone");
    r.add("vssm", [](const Config& node) {
      return std::make_shared<VSSM>(vssm_options_from_config(node), /*dense_backbone=*/false);
    });
    r.add("vssm_backbone", [](const Config& node) {
      return std::make_shared<VSSM>(vssm_options_from_config(node), /*dense_backbone=*/true);
    });
    return r;
  }();
  return registry;
}

std::shared_ptr<Backbone> make_backbone(const Config& node) { return backbone_registry().create(node); }

}  // namespace vss
