#include "apps/segment/scores.h"

#include "datasets/synthetic_scenes.h"

namespace vss_segment {

std::vector<std::string> class_names(const vss::seg::Palette& palette, const vss::Config* cfg) {
  if (!palette.classes.empty()) return palette.classes;
  if (cfg && cfg->has("data") && (*cfg)["data"].get_or<std::string>("type", "") == "synthetic_scenes")
    return vss::SyntheticScenes::class_names();
  return {};
}

vss::seg::Palette read_palette(const std::string& path, int64_t num_classes) {
  return path.empty() ? vss::seg::default_palette(num_classes) : vss::seg::load_palette(path, num_classes);
}

void Scores::add(const std::string& name, const at::Tensor& pred, const at::Tensor& label) {
  vss::seg::SegMetric one(combined.num_classes(), combined.ignore_index());
  one.add(pred, label);
  images[name] = vss::seg::summary_json(one.compute());
  combined.merge(one);
}

}  // namespace vss_segment
