// vss-segment eval: scores existing index masks against ground truth, as mmseg's IoUMetric.
#include "apps/segment/commands.h"
#include "apps/segment/scores.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "core/progress.h"
#include "datasets/file_matching.h"
#include "datasets/seg_files.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <utility>

namespace vss_segment {

namespace fs = std::filesystem;

namespace {

vss::LabelOptions label_options(int64_t num_classes, int64_t ignore_index, bool reduce_zero_label, bool binary) {
  if (reduce_zero_label && binary) throw vss::Error("--reduce-zero-label and --binary exclude each other");
  return {num_classes, ignore_index, reduce_zero_label, binary};
}

// A prediction file's class ids; values outside 0..K-1 are not counted (as mmseg) but said.
at::Tensor read_prediction(const std::string& path, int64_t num_classes) {
  const at::Tensor pred = vss::read_index_map(path);
  const int64_t outside = (pred < 0).logical_or(pred >= num_classes).sum().item<int64_t>();
  if (outside > 0)
    vss::log::warn(path, ": ", outside, " pixel(s) hold values outside the classes 0..", num_classes - 1,
                   " (not counted, as mmseg's IoUMetric)");
  return pred;
}

}  // namespace

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-segment eval",
                   "Scores existing index masks against ground truth as mmseg's IoUMetric: per-class IoU, Acc, Dice, "
                   "Fscore, Precision, Recall and aAcc, mIoU, mAcc, mDice, ... over the whole set (counts summed over "
                   "images first; classes absent from both prediction and label are NaN and left out of the means). "
                   "Files pair by name; every gt needs a prediction.");
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground-truth label maps (class ids; see --reduce-zero-label, --binary)", true);
  auto& res = p.option("--res", "DIR|FILE", "", "predicted index masks (e.g. vss-segment -o DIR)", true);
  auto& num_classes = p.option("--num-classes", "N", "", "number of classes", true);
  auto& ignore = p.option("--ignore-index", "N", "255", "label value that is not scored");
  auto& reduce = p.flag("--reduce-zero-label", "gt 0 is ignored and 1..N become 0..N-1 (ADE20K)");
  auto& binary = p.flag("--binary", "gt masks are 0/255: >= 128 is class 1 (masks already 0/1 are kept)");
  auto& palette = p.option("--palette", "FILE", "", "class names from a palette YAML (classes: [...])");
  auto& json = p.flag("--json", "print JSON (fractions, per image and combined) instead of mmseg's tables (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-segment");
  int64_t K = 0;
  vss::LabelOptions labels;
  try {
    K = num_classes.as_int();
    if (K < 1) throw vss::Error("--num-classes must be >= 1");
    labels = label_options(K, ignore.as_int(), reduce, binary);
  } catch (const vss::Error& e) {
    return vss::usage_error("vss-segment eval", e.what());
  }
  const std::vector<std::string> names = class_names(read_palette(palette.str(), K), nullptr);

  std::vector<vss::MatchedFiles> pairs;
  if (fs::is_regular_file(gt.str()) && fs::is_regular_file(res.str())) {
    pairs.push_back({fs::path(gt.str()).stem().string(), {gt.str(), res.str()}});
  } else {
    for (const auto& [flag, path] : {std::pair{"--gt", gt.str()}, std::pair{"--res", res.str()}})
      if (!fs::is_directory(path)) vss::throw_file_error(path, std::string(flag) + ": expected a folder (or two files)");
    const std::vector<std::string> gt_files = vss::list_images(gt.str());
    const auto m = vss::match_by_name({{"gt", gt_files}, {"res", vss::list_images(res.str())}});
    std::map<std::string, std::string> gt_only;
    for (const auto& path : gt_files) gt_only[fs::path(path).stem().string()] = path;
    for (const auto& f : m.matched) gt_only.erase(f.name);
    if (!gt_only.empty())
      vss::throw_file_error(gt_only.begin()->second, "has no prediction '" + gt_only.begin()->first + ".<png|...>' in " +
                                                         res.str() + " (" + std::to_string(gt_only.size()) +
                                                         " gt file(s) without one)");
    pairs = m.matched;  // predictions without gt (overlays, other images) are not scored
  }
  Scores scores(K, labels.ignore_index);
  vss::Progress bar(static_cast<int64_t>(pairs.size()), "eval", {.unit = "img"});
  for (const auto& f : pairs) {
    const at::Tensor label = vss::read_label_map(f.paths[0], labels);
    const at::Tensor pred = read_prediction(f.paths[1], K);
    if (label.sizes() != pred.sizes())
      vss::throw_file_error(f.paths[1], "prediction is " + std::to_string(pred.size(0)) + "x" + std::to_string(pred.size(1)) +
                                            " but its gt " + f.paths[0] + " is " + std::to_string(label.size(0)) + "x" +
                                            std::to_string(label.size(1)));
    scores.add(f.name, pred, label);
    bar.advance();
  }
  bar.finish();
  const auto s = scores.combined.compute();
  if (json) {
    nlohmann::json out{{"images", scores.images}, {"combined", vss::seg::scores_json(s, names)}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s", vss::seg::scores_table(s, names).c_str());
    std::printf("%zu image(s)\n", pairs.size());
  }
  return 0;
}

}  // namespace vss_segment
