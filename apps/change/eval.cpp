// vss-change eval: scores existing change masks (or, with --semantic, land-cover maps).
#include "apps/change/commands.h"
#include "apps/change/scores.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "datasets/change_folder.h"
#include "datasets/file_matching.h"
#include "datasets/second_folder.h"
#include "heads/change/change_metrics.h"
#include "heads/change/semantic_change_metrics.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace vss_change {

namespace {

// An eval's report: the table and the skipped names, or the JSON summary.
template <class Table>
void print_eval(const Table& scores, const std::vector<std::string>& skipped, bool json) {
  if (json) {
    nlohmann::json out{{"skipped", skipped}};
    scores.to_json(out);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    scores.print();
    print_skipped(skipped);
  }
}

// [H, W] maps read from two files must agree in size: an error naming both.
void check_same_size(const std::string& path_a, const at::Tensor& a, const std::string& path_b, const at::Tensor& b) {
  auto text = [](const at::Tensor& t) { return std::to_string(t.size(0)) + "x" + std::to_string(t.size(1)); };
  if (a.sizes() != b.sizes())
    throw vss::Error("sizes differ: " + path_a + " is " + text(a) + ", " + path_b + " is " + text(b));
}

// The label1 / label2 files of a semantic root (either layout), paired by name.
std::vector<vss::FileRole> semantic_label_roles(const std::string& root, const std::string& role) {
  const vss::change::SemanticLabelFolders f = vss::change::semantic_label_folders(root);
  return {{role + " " + f.label1.filename().string(), vss::list_images(f.label1.string())},
          {role + " " + f.label2.filename().string(), vss::list_images(f.label2.string())}};
}

int run_semantic_eval(const std::string& gt_root, const std::string& res_root, bool json) {
  std::vector<vss::FileRole> roles = semantic_label_roles(gt_root, "gt");
  for (auto& role : semantic_label_roles(res_root, "res")) roles.push_back(std::move(role));
  vss::FileMatching pairs = vss::match_by_name(roles);
  for (const auto& line : pairs.skipped) vss::log::warn("skipped ", line);
  if (pairs.matched.empty()) throw vss::Error("no complete pair: every name lacks a partner file (see the warnings)");
  const int64_t classes = vss::change::kSecondClasses;
  SemanticScores scores(classes);
  for (const auto& m : pairs.matched) {
    vss::change::SemanticChangePair truth;
    truth.label1 = vss::change::read_semantic_label(m.paths[0], classes);
    truth.label2 = vss::change::read_semantic_label(m.paths[1], classes);
    const at::Tensor pred1 = vss::change::read_semantic_label(m.paths[2], classes);
    const at::Tensor pred2 = vss::change::read_semantic_label(m.paths[3], classes);
    const std::vector<const at::Tensor*> maps{&truth.label1, &truth.label2, &pred1, &pred2};
    for (size_t i = 1; i < maps.size(); ++i) check_same_size(m.paths[0], *maps[0], m.paths[i], *maps[i]);
    scores.add(m.name, pair_confusion(truth, pred1, pred2, classes, m.paths[2]));
  }
  print_eval(scores, pairs.skipped, json);
  return 0;
}

}  // namespace

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change eval",
                   "Scores change masks against ground truth, both 0/255 PNGs as LEVIR-CD's labels, paired by file "
                   "name: precision, recall, F1, IoU, OA and kappa of the changed class, per image and combined "
                   "(one confusion matrix over all images, as change detection papers report). With --semantic: "
                   "land-cover maps of the changed pixels (SECOND), OA, mIoU, SeK, F_scd per pair and combined.");
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground-truth masks (e.g. LEVIR-CD/test/label); with --semantic a root "
                                             "holding label1/ + label2/ or GT_T1/ + GT_T2/", true);
  auto& res = p.option("--res", "DIR|FILE", "", "predicted masks (e.g. vss-change -o DIR); with --semantic a root "
                                               "as --gt (vss-change --semantic -o DIR)", true);
  auto& semantic = p.flag("--semantic", "semantic change maps, 7-class protocol (specs/scd.md §5)");
  auto& json = p.flag("--json", "print JSON (fractions) instead of a table (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-change");
  if (semantic) return run_semantic_eval(gt.str(), res.str(), json);
  const auto pairs = pair_inputs({{"gt", gt.str()}, {"res", res.str()}});
  Scores scores;
  for (const auto& m : pairs.matched) {
    const at::Tensor label = vss::change::read_change_mask(m.paths[0]);
    const at::Tensor pred = vss::change::read_change_mask(m.paths[1]);
    check_same_size(m.paths[0], label, m.paths[1], pred);
    scores.add(m.name, vss::change::confusion_matrix(pred, label, m.paths[1]));
  }
  print_eval(scores, pairs.skipped, json);
  return 0;
}

}  // namespace vss_change
