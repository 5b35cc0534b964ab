#pragma once
// Multi-object tracking metrics exactly as TrackEval computes them (conventions.md §1.3):
// CLEAR (MOTA, MOTP, IDSW, Frag, MT/PT/ML), Identity (IDF1) and HOTA (19 alphas), per
// sequence and combined across sequences by summing counts, never by averaging ratios.
#include "datasets/mot_challenge.h"

#include <array>
#include <cstdint>
#include <vector>

namespace vss::track {

constexpr int kNumAlphas = 19;  // 0.05, 0.10, ..., 0.95

// One sequence after preprocessing: ids relabelled 0..num_ids-1, IoU per frame (gt-major).
struct SequenceData {
  struct Frame {
    std::vector<int64_t> gt_ids, trk_ids;
    std::vector<double> iou;  // gt_ids.size() x trk_ids.size()
  };
  std::vector<Frame> frames;
  int64_t num_gt_ids = 0, num_trk_ids = 0;
};

// TrackEval's box IoU (xywh, no +1 pixel).
double box_iou(const Box& a, const Box& b);

// Frames 1..num_frames. Gt boxes with consider flag 0 are dropped. With `preprocess` (MOT17/20
// style, only meaningful for gt with a class column) tracker boxes matched (IoU >= 0.5,
// Hungarian) to a distractor gt (classes 2, 7, 8, 12) are dropped and only class-1 gt is kept.
SequenceData prepare_sequence(const std::vector<Box>& gt, const std::vector<Box>& results,
                              int64_t num_frames, bool preprocess);

// Summable counts of one or more sequences.
struct MotCounts {
  int64_t clr_tp = 0, clr_fn = 0, clr_fp = 0, idsw = 0, mt = 0, pt = 0, ml = 0, frag = 0;
  double motp_sum = 0;
  int64_t idtp = 0, idfn = 0, idfp = 0;
  std::array<double, kNumAlphas> hota_tp{}, hota_fn{}, hota_fp{};
  // TP-weighted sums (AssA_alpha * TP_alpha, ...) and the IoU sum of TP_alpha pairs.
  std::array<double, kNumAlphas> ass_a_sum{}, ass_re_sum{}, ass_pr_sum{}, loc_sum{};

  MotCounts& operator+=(const MotCounts& other);
};

MotCounts evaluate_sequence(const SequenceData& seq);

// Ratios as fractions (TrackEval prints 100x). HOTA-family values are means over alphas.
struct MotMetrics {
  double mota = 0, motp = 0, moda = 0, smota = 0, clr_re = 0, clr_pr = 0;
  double idf1 = 0, idr = 0, idp = 0;
  double hota = 0, det_a = 0, ass_a = 0, loc_a = 0, det_re = 0, det_pr = 0, ass_re = 0, ass_pr = 0;
  double hota0 = 0, loc_a0 = 0;  // alpha = 0.05
  MotCounts counts;
};

MotMetrics summarize(const MotCounts& counts);

}  // namespace vss::track
