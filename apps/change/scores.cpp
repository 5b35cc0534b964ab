#include "apps/change/scores.h"

#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"

#include <cstdio>
#include <filesystem>

namespace vss_change {

namespace fs = std::filesystem;
using vss::change::ChangeMetrics;
using vss::change::SemanticChangeMetrics;
using vss::change::SemanticConfusion;

vss::FileMatching pair_inputs(const std::vector<std::pair<std::string, std::string>>& specs) {
  bool all_files = true;
  for (const auto& [role, spec] : specs) all_files = all_files && fs::is_regular_file(spec);
  if (all_files) {
    vss::FileMatching single;
    std::vector<std::string> paths;
    for (const auto& [role, spec] : specs) paths.push_back(spec);
    single.matched.push_back({fs::path(specs[0].second).stem().string(), paths});
    return single;
  }
  std::vector<vss::FileRole> roles;
  for (const auto& [role, spec] : specs) {
    if (fs::is_regular_file(spec))
      throw vss::Error(role + " " + spec + " is a file but another input is a folder: give files or folders");
    roles.push_back({role, vss::list_images(spec)});
  }
  vss::FileMatching m = vss::match_by_name(roles);
  for (const auto& line : m.skipped) vss::log::warn("skipped ", line);
  if (m.matched.empty()) throw vss::Error("no complete pair: every name lacks a partner file (see the warnings)");
  return m;
}

nlohmann::json to_json(const ChangeMetrics& m) {
  const auto& c = m.counts;
  return {{"precision", m.precision}, {"recall", m.recall}, {"F1", m.f1}, {"IoU", m.iou}, {"OA", m.oa},
          {"kappa", m.kappa},         {"TP", c.tp},         {"FP", c.fp}, {"FN", c.fn},   {"TN", c.tn}};
}

void print_header(const ChangeMetrics&) {
  std::printf("%-32s %9s %7s %7s %7s %7s %7s\n", "image", "precision", "recall", "F1", "IoU", "OA", "kappa");
}

void print_row(const std::string& name, const ChangeMetrics& m) {
  std::printf("%-32s %9.2f %7.2f %7.2f %7.2f %7.2f %7.2f\n", name.c_str(), 100 * m.precision, 100 * m.recall,
              100 * m.f1, 100 * m.iou, 100 * m.oa, 100 * m.kappa);
}

nlohmann::json to_json(const SemanticChangeMetrics& m) {
  return {{"OA", m.oa},         {"mIoU", m.miou},   {"SeK", m.sek},           {"F_scd", m.f_scd}, {"IoU_nc", m.iou_nc},
          {"IoU_c", m.iou_c},   {"kappa_n0", m.kappa_n0}, {"P_scd", m.p_scd}, {"R_scd", m.r_scd}};
}

void print_header(const SemanticChangeMetrics&) {
  std::printf("%-32s %7s %7s %7s %7s %7s %7s %8s\n", "pair", "OA", "mIoU", "SeK", "F_scd", "IoU_nc", "IoU_c",
              "kappa_n0");
}

void print_row(const std::string& name, const SemanticChangeMetrics& m) {
  std::printf("%-32s %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %8.2f\n", name.c_str(), 100 * m.oa, 100 * m.miou, 100 * m.sek,
              100 * m.f_scd, 100 * m.iou_nc, 100 * m.iou_c, 100 * m.kappa_n0);
}

SemanticConfusion pair_confusion(const vss::change::SemanticChangePair& truth, const at::Tensor& label1,
                                 const at::Tensor& label2, int64_t classes, const std::string& what) {
  SemanticConfusion c(classes);
  c.add_map(label1, truth.label1, what);
  c.add_map(label2, truth.label2, what);
  return c;
}

void print_skipped(const std::vector<std::string>& skipped) {
  if (skipped.empty()) return;
  std::printf("skipped %zu name(s) without all partner files:\n", skipped.size());
  for (const auto& line : skipped) std::printf("  %s\n", line.c_str());
}

}  // namespace vss_change
