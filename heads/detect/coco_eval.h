#pragma once
// pycocotools' COCOeval for bounding boxes (cocodataset/cocoapi PythonAPI/pycocotools/cocoeval.py),
// re-implemented step for step so the numbers are the same: per (image, category) detections
// sorted by score (stable) and cut to maxDets; greedy matching at IoU thresholds 0.50:0.05:0.95
// preferring non-ignored gt; crowd gt (iscrowd) matched by intersection over the detection's
// area and reusable; gt outside an area range (the file's `area`) ignored, unmatched
// detections outside it ignored; precision made monotone and sampled at 101 recall points;
// a category without any non-ignored gt is left out of the means (pycocotools' -1).
#include "datasets/coco_detection.h"

#include <map>
#include <string>
#include <vector>

namespace vss::detect {

struct CocoStats {
  // COCOeval.stats in order: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl.
  // -1 where pycocotools prints -1 (nothing to score).
  double ap = -1, ap50 = -1, ap75 = -1, ap_small = -1, ap_medium = -1, ap_large = -1;
  double ar1 = -1, ar10 = -1, ar100 = -1, ar_small = -1, ar_medium = -1, ar_large = -1;
};

struct CocoEvalResult {
  CocoStats combined;
  std::map<int64_t, CocoStats> per_category;  // the same figures restricted to one category id
};

// Errors (one line, naming `results_name`) for results on images the gt does not have, as
// loadRes asserts. Detections of categories the gt does not list are not scored (as COCOeval).
CocoEvalResult coco_evaluate(const coco::Instances& gt, const std::vector<coco::Result>& results,
                             const std::string& results_name = "results");

// The figures as {"AP": .., "AP50": .., ...} names (DESIGN §5), in the order of CocoStats.
std::vector<std::pair<std::string, double>> named_stats(const CocoStats& s);

}  // namespace vss::detect
