#pragma once
// Backbones by YAML `type:`: vssm (VMamba classifier), vssm_backbone (Backbone_VSSM, for
// dense heads). The rest of the node holds the official constructor's keys.
#include "backbones/backbone.h"
#include "core/registry.h"

#include <memory>

namespace vss {

Registry<Backbone>& backbone_registry();
std::shared_ptr<Backbone> make_backbone(const Config& node);

}  // namespace vss
