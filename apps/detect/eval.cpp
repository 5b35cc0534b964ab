// vss-detect eval: scores COCO results as pycocotools' COCOeval (bbox) does.
#include "apps/detect/commands.h"
#include "core/cli.h"
#include "datasets/coco_detection.h"
#include "heads/detect/coco_eval.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

namespace vss_detect {

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-detect eval",
                   "Scores COCO-format detections against COCO instances as pycocotools' COCOeval (bbox) does: "
                   "AP AP50 AP75 APs APm APl AR1 AR10 AR100 (and ARs ARm ARl), overall and per category.");
  auto& gt = p.option("--gt", "FILE", "", "COCO instances JSON (images, annotations, categories)", true);
  auto& res = p.option("--res", "FILE", "", "COCO results JSON: [{image_id, category_id, bbox, score}, ...]", true);
  auto& json = p.flag("--json", "print JSON (fractions) instead of a table (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto instances = vss::coco::read_instances(gt.str());
  const auto results = vss::coco::read_results(res.str());
  const auto r = vss::detect::coco_evaluate(instances, results, res.str());
  auto to_json = [](const vss::detect::CocoStats& s) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : vss::detect::named_stats(s)) j[k] = v;
    return j;
  };
  if (json) {
    nlohmann::json out = {{"categories", nlohmann::json::object()}, {"combined", to_json(r.combined)}};
    std::map<int64_t, std::string> names;
    for (const auto& c : instances.categories) names[c.id] = c.name.empty() ? std::to_string(c.id) : c.name;
    for (const auto& [id, s] : r.per_category) out["categories"][names[id]] = to_json(s);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-16s", "category");
  for (const auto& [k, v] : vss::detect::named_stats(r.combined)) std::printf(" %6s", k.c_str());
  std::printf("\n");
  auto row = [](const std::string& name, const vss::detect::CocoStats& s) {
    std::printf("%-16s", name.c_str());
    for (const auto& [k, v] : vss::detect::named_stats(s)) std::printf(" %6.2f", v < 0 ? -1.0 : 100 * v);
    std::printf("\n");
  };
  for (const auto& c : instances.categories) row(c.name.empty() ? std::to_string(c.id) : c.name, r.per_category.at(c.id));
  row("COMBINED", r.combined);
  return 0;
}

}  // namespace vss_detect
