// COCOeval (bbox) as pycocotools computes it (see coco_eval.h). Comments name the Python steps.
#include "heads/detect/coco_eval.h"

#include "core/error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

namespace vss::detect {
namespace {

constexpr int kT = 10;   // iouThrs = linspace(.5, .95, 10)
constexpr int kR = 101;  // recThrs = linspace(0, 1, 101)
constexpr int kA = 4;    // areaRng all, small, medium, large
constexpr int kM = 3;    // maxDets 1, 10, 100
const std::array<double, kA * 2> kAreaRng = {0, 1e10, 0, 32 * 32, 32 * 32, 96 * 96, 96 * 96, 1e10};
const std::array<int64_t, kM> kMaxDets = {1, 10, 100};

// np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True): start + i·step
// with step = (stop - start) / (num - 1), the last value exactly stop.
double linspace(double start, double stop, int num, int i) {
  if (i == num - 1) return stop;
  return start + i * ((stop - start) / (num - 1));
}

struct Box {
  double x, y, w, h;
};

// maskUtils.iou for boxes (bbIou): intersection over union, or over the detection's area for
// a crowd gt; 0 when they do not overlap.
double box_iou(const Box& d, const Box& g, bool crowd) {
  const double w = std::min(d.x + d.w, g.x + g.w) - std::max(d.x, g.x);
  if (w <= 0) return 0;
  const double h = std::min(d.y + d.h, g.y + g.h) - std::max(d.y, g.y);
  if (h <= 0) return 0;
  const double i = w * h;
  const double u = crowd ? d.w * d.h : d.w * d.h + g.w * g.h - i;
  return i / u;
}

struct Gt {
  int64_t id;
  Box box;
  double area;
  bool crowd;
};

struct Dt {
  int64_t id;
  Box box;
  double area, score;
};

// evaluateImg's output for one (image, category, area range, maxDet).
struct ImageEval {
  bool present = false;  // false: no gt and no detection (Python's None)
  std::vector<double> scores;               // detections in score order, cut to maxDet
  std::vector<std::array<int64_t, kT>> dtm;  // matched gt id per threshold (0 = none)
  std::vector<std::array<bool, kT>> dt_ignore;
  std::vector<bool> gt_ignore;
};

// Stable sort of indices by descending key (np.argsort(-x, kind='mergesort')).
template <class F>
std::vector<size_t> stable_desc(size_t n, F key) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
  return idx;
}

ImageEval evaluate_image(const std::vector<Gt>& gts_in, const std::vector<Dt>& dts_sorted,
                         const std::vector<std::vector<double>>& ious_sorted, double a_lo, double a_hi, int64_t max_det) {
  ImageEval e;
  if (gts_in.empty() && dts_sorted.empty()) return e;
  e.present = true;
  // g['_ignore'] = ignore (= iscrowd) or area outside the range; gt sorted with non-ignored first.
  std::vector<int> g_ignore(gts_in.size());
  for (size_t i = 0; i < gts_in.size(); ++i)
    g_ignore[i] = (gts_in[i].crowd || gts_in[i].area < a_lo || gts_in[i].area > a_hi) ? 1 : 0;
  std::vector<size_t> gtind(gts_in.size());
  std::iota(gtind.begin(), gtind.end(), 0);
  std::stable_sort(gtind.begin(), gtind.end(), [&](size_t a, size_t b) { return g_ignore[a] < g_ignore[b]; });
  const size_t G = gts_in.size();
  const size_t D = std::min<size_t>(dts_sorted.size(), static_cast<size_t>(max_det));
  e.gt_ignore.resize(G);
  for (size_t j = 0; j < G; ++j) e.gt_ignore[j] = g_ignore[gtind[j]] != 0;
  e.dtm.assign(D, {});
  e.dt_ignore.assign(D, {});
  std::vector<std::array<int64_t, kT>> gtm(G);
  for (auto& row : gtm) row.fill(0);
  for (auto& row : e.dtm) row.fill(0);
  for (auto& row : e.dt_ignore) row.fill(false);
  if (G > 0 && D > 0) {
    for (int t = 0; t < kT; ++t) {
      const double thr = linspace(0.5, 0.95, kT, t);
      for (size_t d = 0; d < D; ++d) {
        double iou = std::min(thr, 1 - 1e-10);
        long m = -1;
        for (size_t g = 0; g < G; ++g) {
          const Gt& gt = gts_in[gtind[g]];
          // A matched gt is used up unless it is a crowd region.
          if (gtm[g][t] > 0 && !gt.crowd) continue;
          // Once matched to a regular gt, stop at the first ignored one (they come last).
          if (m > -1 && !e.gt_ignore[static_cast<size_t>(m)] && e.gt_ignore[g]) break;
          const double v = ious_sorted[d][gtind[g]];
          if (v < iou) continue;
          iou = v;
          m = static_cast<long>(g);
        }
        if (m == -1) continue;
        e.dt_ignore[d][t] = e.gt_ignore[static_cast<size_t>(m)];
        e.dtm[d][t] = gts_in[gtind[static_cast<size_t>(m)]].id;
        gtm[static_cast<size_t>(m)][t] = dts_sorted[d].id;
      }
    }
  }
  // Unmatched detections outside the area range are ignored.
  for (size_t d = 0; d < D; ++d) {
    e.scores.push_back(dts_sorted[d].score);
    const bool outside = dts_sorted[d].area < a_lo || dts_sorted[d].area > a_hi;
    for (int t = 0; t < kT; ++t)
      e.dt_ignore[d][t] = e.dt_ignore[d][t] || (e.dtm[d][t] == 0 && outside);
  }
  return e;
}

// accumulate() for one category, area range and maxDet over all images (in image-id order):
// precision at 101 recall points per threshold and the final recall; false when no gt counts.
bool accumulate(const std::vector<const ImageEval*>& evals, int64_t max_det,
                std::array<std::array<double, kR>, kT>* precision, std::array<double, kT>* recall) {
  std::vector<double> scores;
  std::vector<std::array<int64_t, kT>> dtm;
  std::vector<std::array<bool, kT>> dtig;
  int64_t npig = 0;
  for (const ImageEval* e : evals) {
    const size_t n = std::min<size_t>(e->scores.size(), static_cast<size_t>(max_det));
    for (size_t i = 0; i < n; ++i) {
      scores.push_back(e->scores[i]);
      dtm.push_back(e->dtm[i]);
      dtig.push_back(e->dt_ignore[i]);
    }
    for (bool ig : e->gt_ignore) npig += ig ? 0 : 1;
  }
  if (npig == 0) return false;
  const auto inds = stable_desc(scores.size(), [&](size_t i) { return scores[i]; });
  const size_t nd = inds.size();
  const double eps = std::nextafter(1.0, 2.0) - 1.0;  // np.spacing(1)
  for (int t = 0; t < kT; ++t) {
    std::vector<double> rc(nd), pr(nd);
    double tp = 0, fp = 0;
    for (size_t i = 0; i < nd; ++i) {
      const size_t k = inds[i];
      if (!dtig[k][t]) {
        if (dtm[k][t] != 0) tp += 1;
        else fp += 1;
      }
      rc[i] = tp / static_cast<double>(npig);
      pr[i] = tp / (fp + tp + eps);
    }
    (*recall)[t] = nd ? rc[nd - 1] : 0;
    for (size_t i = nd; i-- > 1;)
      if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
    auto& q = (*precision)[t];
    q.fill(0);
    for (int r = 0; r < kR; ++r) {
      // np.searchsorted(rc, recThrs, side='left'): the first index with rc >= threshold.
      const double thr = linspace(0, 1, kR, r);
      const size_t pi = static_cast<size_t>(std::lower_bound(rc.begin(), rc.end(), thr) - rc.begin());
      if (pi >= nd) break;  // the IndexError pycocotools catches: the rest stay 0
      q[static_cast<size_t>(r)] = pr[pi];
    }
  }
  return true;
}

// precision [K][A][M] of [T][R] and recall [K][A][M] of [T], with a present flag each.
struct Accumulated {
  std::vector<std::array<std::array<std::array<std::array<double, kR>, kT>, kM>, kA>> precision;
  std::vector<std::array<std::array<std::array<double, kT>, kM>, kA>> recall;
  std::vector<std::array<std::array<bool, kM>, kA>> present;
};

// _summarize: the mean of the entries > -1 of the selected slice, -1 when there is none.
double summarize(const Accumulated& acc, const std::vector<size_t>& cats, bool ap, int t_sel, int a, int m) {
  double sum = 0;
  int64_t n = 0;
  for (size_t k : cats) {
    if (!acc.present[k][a][m]) continue;  // pycocotools' -1 entries
    for (int t = 0; t < kT; ++t) {
      if (t_sel >= 0 && t != t_sel) continue;
      if (ap) {
        for (int r = 0; r < kR; ++r) sum += acc.precision[k][a][m][t][r], ++n;
      } else {
        sum += acc.recall[k][a][m][t], ++n;
      }
    }
  }
  return n ? sum / static_cast<double>(n) : -1;
}

CocoStats stats_of(const Accumulated& acc, const std::vector<size_t>& cats) {
  CocoStats s;
  s.ap = summarize(acc, cats, true, -1, 0, 2);
  s.ap50 = summarize(acc, cats, true, 0, 0, 2);
  s.ap75 = summarize(acc, cats, true, 5, 0, 2);
  s.ap_small = summarize(acc, cats, true, -1, 1, 2);
  s.ap_medium = summarize(acc, cats, true, -1, 2, 2);
  s.ap_large = summarize(acc, cats, true, -1, 3, 2);
  s.ar1 = summarize(acc, cats, false, -1, 0, 0);
  s.ar10 = summarize(acc, cats, false, -1, 0, 1);
  s.ar100 = summarize(acc, cats, false, -1, 0, 2);
  s.ar_small = summarize(acc, cats, false, -1, 1, 2);
  s.ar_medium = summarize(acc, cats, false, -1, 2, 2);
  s.ar_large = summarize(acc, cats, false, -1, 3, 2);
  return s;
}

}  // namespace

CocoEvalResult coco_evaluate(const coco::Instances& gt, const std::vector<coco::Result>& results,
                             const std::string& results_name) {
  std::set<int64_t> image_set, cat_set;
  for (const auto& im : gt.images) image_set.insert(im.id);
  for (const auto& c : gt.categories) cat_set.insert(c.id);
  for (size_t i = 0; i < results.size(); ++i)
    if (!image_set.count(results[i].image_id))
      throw_file_error(results_name, "[" + std::to_string(i) + "].image_id: image " +
                                         std::to_string(results[i].image_id) +
                                         " is not in the gt (results do not correspond to the gt set)");
  const std::vector<int64_t> images(image_set.begin(), image_set.end());
  const std::vector<int64_t> cats(cat_set.begin(), cat_set.end());
  std::map<int64_t, size_t> image_index, cat_index;
  for (size_t i = 0; i < images.size(); ++i) image_index[images[i]] = i;
  for (size_t k = 0; k < cats.size(); ++k) cat_index[cats[k]] = k;
  // _prepare: gts and dts per (image, category) in file order; loadRes numbers detections
  // 1..N in file order and gives them area w·h.
  const size_t I = images.size(), K = cats.size();
  std::vector<std::vector<Gt>> gts(I * K);
  std::vector<std::vector<Dt>> dts(I * K);
  for (const auto& a : gt.annotations) {
    const auto c = cat_index.find(a.category_id);
    if (c == cat_index.end()) continue;
    gts[c->second * I + image_index.at(a.image_id)].push_back({a.id, {a.x, a.y, a.w, a.h}, a.area, a.iscrowd});
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const auto c = cat_index.find(r.category_id);
    if (c == cat_index.end()) continue;
    dts[c->second * I + image_index.at(r.image_id)].push_back(
        {static_cast<int64_t>(i) + 1, {r.x, r.y, r.w, r.h}, r.w * r.h, r.score});
  }

  Accumulated acc;
  acc.precision.resize(K);
  acc.recall.resize(K);
  acc.present.resize(K);
  std::vector<ImageEval> evals(I * kA);
  for (size_t k = 0; k < K; ++k) {
    for (size_t i = 0; i < I; ++i) {
      const auto& g = gts[k * I + i];
      const auto& d0 = dts[k * I + i];
      // computeIoU: detections by descending score (stable), cut to maxDets[-1].
      const auto order = stable_desc(d0.size(), [&](size_t j) { return d0[j].score; });
      std::vector<Dt> d;
      for (size_t j = 0; j < std::min<size_t>(order.size(), static_cast<size_t>(kMaxDets[kM - 1])); ++j)
        d.push_back(d0[order[j]]);
      std::vector<std::vector<double>> ious(d.size(), std::vector<double>(g.size()));
      for (size_t a = 0; a < d.size(); ++a)
        for (size_t b = 0; b < g.size(); ++b) ious[a][b] = box_iou(d[a].box, g[b].box, g[b].crowd);
      for (int a = 0; a < kA; ++a)
        evals[static_cast<size_t>(a) * I + i] =
            evaluate_image(g, d, ious, kAreaRng[2 * a], kAreaRng[2 * a + 1], kMaxDets[kM - 1]);
    }
    for (int a = 0; a < kA; ++a) {
      std::vector<const ImageEval*> present;
      for (size_t i = 0; i < I; ++i)
        if (evals[static_cast<size_t>(a) * I + i].present) present.push_back(&evals[static_cast<size_t>(a) * I + i]);
      for (int m = 0; m < kM; ++m)
        acc.present[k][a][m] = accumulate(present, kMaxDets[m], &acc.precision[k][a][m], &acc.recall[k][a][m]);
    }
  }
  CocoEvalResult out;
  std::vector<size_t> all(K);
  std::iota(all.begin(), all.end(), 0);
  out.combined = stats_of(acc, all);
  for (size_t k = 0; k < K; ++k) out.per_category[cats[k]] = stats_of(acc, {k});
  return out;
}

std::vector<std::pair<std::string, double>> named_stats(const CocoStats& s) {
  return {{"AP", s.ap},     {"AP50", s.ap50},   {"AP75", s.ap75},   {"APs", s.ap_small},
          {"APm", s.ap_medium}, {"APl", s.ap_large}, {"AR1", s.ar1}, {"AR10", s.ar10},
          {"AR100", s.ar100}, {"ARs", s.ar_small}, {"ARm", s.ar_medium}, {"ARl", s.ar_large}};
}

}  // namespace vss::detect
