#include "apps/classify/model_options.h"

#include "backbones/vssm.h"
#include "core/error.h"
#include "core/log.h"
#include "datasets/image_resize.h"
#include "engine/mixed_precision.h"

#include <torch/torch.h>

namespace vss_classify {

ModelOptions::ModelOptions(vss::ArgParser& p)
    : weights_(p.option("--weights", "FILE", "", "safetensors weights (vss-classify export, tools/convert_pth.py)", true)),
      config_(p.option("--config", "FILE", "", "classifier YAML (type: vssm); default: the one the weights carry, "
                                               "else configs/backbones/vmamba_tiny.yaml")),
      sets_(p.multi("--set", "key=value", "override a config key")),
      num_classes_(p.option("--num-classes", "N", "", "the model's class count, for weights with another head than the config's")),
      non_strict_(p.flag("--non-strict", "allow another classifier head (it stays untrained)")),
      classes_(p.option("--classes", "FILE", "", "class names, one per line (default: the weights', else indices)")),
      size_(p.option("--size", "N", "", "crop size (default: the weights', else 224)")),
      crop_pct_(p.option("--crop-pct", "F", "", "timm's crop_pct: resize the shorter side to size / F first "
                                                 "(default: the weights', else 0.875)")),
      interpolation_(p.option("--interpolation", "bicubic|bilinear", "", "resize filter (default: the weights', else bicubic)")),
      batch_(p.option("--batch", "N", "32", "images per forward pass")),
      device_(p, {.dtype_help = "bf16: autocast to bfloat16 (CUDA)", .bf16_needs_cuda = true}) {}

vss::Classifier ModelOptions::load() {
  batch = batch_.as_int(1, 4096);
  run_on = device_.read();

  vss::ClassifierRequest request;
  request.weights = weights_.str();
  request.config = config_.str();
  request.fallback_config = "configs/backbones/vmamba_tiny.yaml";
  request.sets = sets_.values;
  request.num_classes = num_classes_ ? num_classes_.as_int(1, vss::kMaxListEntry) : 0;
  request.other_head = non_strict_;
  request.classes_file = classes_.str();
  vss::Classifier c = vss::load_classifier(request);
  for (const auto& key : c.untrained)
    vss::log::warn(key, " kept at its initial values (not in ", weights_.str(), " for this head)");
  if (size_) c.pipeline.size = size_.as_int(1, 1 << 14);
  if (crop_pct_) {
    c.pipeline.crop_pct = crop_pct_.as_double();
    if (!(c.pipeline.crop_pct > 0 && c.pipeline.crop_pct <= 1)) throw vss::UsageError("--crop-pct must be in (0, 1]");
  }
  if (interpolation_) {
    try {
      c.pipeline.interpolation = vss::parse_interpolation(interpolation_.str());
    } catch (const vss::Error& e) {
      throw vss::UsageError(std::string("--interpolation: ") + e.what());
    }
  }
  c.model->to(run_on.device);
  c.model->eval();
  return c;
}

at::Tensor ModelOptions::logits(vss::Classifier& c, const std::vector<at::Tensor>& images) const {
  c10::InferenceMode inference;
  vss::AutocastScope autocast(run_on.device, run_on.precision.autocast);
  return c.model->forward(torch::stack(images).to(run_on.device)).to(at::kCPU, at::kFloat);
}

std::string skipped_note(const vss::UnreadableImages& unreadable) {
  return unreadable.count() ? ", " + std::to_string(unreadable.count()) + " unreadable skipped" : "";
}

}  // namespace vss_classify
