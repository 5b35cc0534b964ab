#include "heads/track/mot_metrics.h"

#include "heads/track/linear_assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace vss::track {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();  // numpy's finfo('float').eps

double alpha(int a) { return 0.05 + a * 0.05; }  // np.arange(0.05, 0.99, 0.05): start + i * step

// Hungarian maximising `score` (rows x cols); pairs as scipy's linear_sum_assignment(-score).
std::vector<std::pair<int64_t, int64_t>> maximise(const std::vector<double>& score, int64_t rows, int64_t cols) {
  std::vector<double> neg(score.size());
  for (size_t k = 0; k < score.size(); ++k) neg[k] = -score[k];
  return solve_assignment(neg, rows, cols).matches;
}

std::vector<double> iou_matrix(const std::vector<const Box*>& gt, const std::vector<const Box*>& trk) {
  std::vector<double> iou(gt.size() * trk.size());
  for (size_t g = 0; g < gt.size(); ++g)
    for (size_t t = 0; t < trk.size(); ++t) iou[g * trk.size() + t] = box_iou(*gt[g], *trk[t]);
  return iou;
}

void evaluate_clear(const SequenceData& seq, MotCounts& res) {
  const int64_t G = seq.num_gt_ids;
  std::vector<int64_t> id_count(G, 0), matched_count(G, 0), frag_count(G, 0);
  std::vector<int64_t> prev_id(G, -1), prev_step_id(G, -1);  // -1: none (TrackEval's NaN)
  for (const auto& f : seq.frames) {
    const int64_t ng = f.gt_ids.size(), nt = f.trk_ids.size();
    if (ng == 0) {
      res.clr_fp += nt;
      continue;
    }
    if (nt == 0) {  // TrackEval skips the rest, so prev_step_id survives this frame
      res.clr_fn += ng;
      for (int64_t g : f.gt_ids) ++id_count[g];
      continue;
    }
    std::vector<double> score(ng * nt);
    for (int64_t i = 0; i < ng; ++i)
      for (int64_t j = 0; j < nt; ++j) {
        const double iou = f.iou[i * nt + j];
        score[i * nt + j] = iou < 0.5 - kEps ? 0.0 : 1000.0 * (f.trk_ids[j] == prev_step_id[f.gt_ids[i]]) + iou;
      }
    std::vector<std::pair<int64_t, int64_t>> matched;
    for (auto [i, j] : maximise(score, ng, nt))
      if (score[i * nt + j] > kEps) matched.emplace_back(i, j);
    for (auto [i, j] : matched) {
      const int64_t g = f.gt_ids[i], t = f.trk_ids[j];
      if (prev_id[g] >= 0 && prev_id[g] != t) ++res.idsw;
    }
    for (int64_t g : f.gt_ids) ++id_count[g];
    std::vector<int64_t> next_step(G, -1);
    for (auto [i, j] : matched) {
      const int64_t g = f.gt_ids[i], t = f.trk_ids[j];
      ++matched_count[g];
      prev_id[g] = t;
      next_step[g] = t;
      if (prev_step_id[g] < 0) ++frag_count[g];  // a tracked stretch starts
      res.motp_sum += f.iou[i * nt + j];
    }
    prev_step_id = std::move(next_step);
    res.clr_tp += matched.size();
    res.clr_fn += ng - static_cast<int64_t>(matched.size());
    res.clr_fp += nt - static_cast<int64_t>(matched.size());
  }
  for (int64_t g = 0; g < G; ++g) {
    if (frag_count[g] > 0) res.frag += frag_count[g] - 1;
    if (id_count[g] == 0) continue;
    const double ratio = static_cast<double>(matched_count[g]) / id_count[g];
    if (ratio > 0.8) ++res.mt;
    else if (ratio >= 0.2) ++res.pt;
  }
  res.ml = G - res.mt - res.pt;
}

void evaluate_identity(const SequenceData& seq, MotCounts& res) {
  const int64_t G = seq.num_gt_ids, T = seq.num_trk_ids, n = G + T;
  std::vector<double> potential(G * T, 0), gt_count(G, 0), trk_count(T, 0);
  for (const auto& f : seq.frames) {
    const size_t nt = f.trk_ids.size();
    for (size_t i = 0; i < f.gt_ids.size(); ++i)
      for (size_t j = 0; j < nt; ++j)
        if (f.iou[i * nt + j] >= 0.5) potential[f.gt_ids[i] * T + f.trk_ids[j]] += 1;
    for (int64_t g : f.gt_ids) gt_count[g] += 1;
    for (int64_t t : f.trk_ids) trk_count[t] += 1;
  }
  // Gt ids are rows, tracker ids columns; dummy rows/cols let an id stay unmatched.
  std::vector<double> fn(n * n, 0), fp(n * n, 0);
  for (int64_t r = G; r < n; ++r)
    for (int64_t c = 0; c < T; ++c) fp[r * n + c] = 1e10;
  for (int64_t r = 0; r < G; ++r)
    for (int64_t c = T; c < n; ++c) fn[r * n + c] = 1e10;
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t c = 0; c < T; ++c) fn[g * n + c] = gt_count[g] - potential[g * T + c];
    fn[g * n + T + g] = gt_count[g];
  }
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t r = 0; r < G; ++r) fp[r * n + t] = trk_count[t] - potential[r * T + t];
    fp[(G + t) * n + t] = trk_count[t];
  }
  std::vector<double> total(n * n);
  for (int64_t k = 0; k < n * n; ++k) total[k] = fn[k] + fp[k];
  double idfn = 0, idfp = 0, gt_dets = 0;
  for (auto [r, c] : solve_assignment(total, n, n).matches) idfn += fn[r * n + c], idfp += fp[r * n + c];
  for (double c : gt_count) gt_dets += c;
  res.idfn += static_cast<int64_t>(idfn);
  res.idfp += static_cast<int64_t>(idfp);
  res.idtp += static_cast<int64_t>(gt_dets - static_cast<int64_t>(idfn));
}

void evaluate_hota(const SequenceData& seq, MotCounts& res) {
  const int64_t G = seq.num_gt_ids, T = seq.num_trk_ids;
  std::vector<double> potential(G * T, 0), gt_count(G, 0), trk_count(T, 0);
  for (const auto& f : seq.frames) {
    const int64_t ng = f.gt_ids.size(), nt = f.trk_ids.size();
    std::vector<double> row_sum(ng, 0), col_sum(nt, 0);
    for (int64_t i = 0; i < ng; ++i)
      for (int64_t j = 0; j < nt; ++j) row_sum[i] += f.iou[i * nt + j], col_sum[j] += f.iou[i * nt + j];
    for (int64_t i = 0; i < ng; ++i)
      for (int64_t j = 0; j < nt; ++j) {
        const double s = f.iou[i * nt + j], denom = col_sum[j] + row_sum[i] - s;
        if (denom > kEps) potential[f.gt_ids[i] * T + f.trk_ids[j]] += s / denom;
      }
    for (int64_t g : f.gt_ids) gt_count[g] += 1;
    for (int64_t t : f.trk_ids) trk_count[t] += 1;
  }
  std::vector<double> alignment(G * T);
  for (int64_t g = 0; g < G; ++g)
    for (int64_t t = 0; t < T; ++t)
      alignment[g * T + t] = potential[g * T + t] / (gt_count[g] + trk_count[t] - potential[g * T + t]);

  std::array<double, kNumAlphas> tp{}, loc{};
  std::vector<std::vector<double>> matches(kNumAlphas, std::vector<double>(G * T, 0));
  for (const auto& f : seq.frames) {
    const int64_t ng = f.gt_ids.size(), nt = f.trk_ids.size();
    if (ng == 0 || nt == 0) {
      for (int a = 0; a < kNumAlphas; ++a) res.hota_fp[a] += nt, res.hota_fn[a] += ng;
      continue;
    }
    std::vector<double> score(ng * nt);
    for (int64_t i = 0; i < ng; ++i)
      for (int64_t j = 0; j < nt; ++j)
        score[i * nt + j] = alignment[f.gt_ids[i] * T + f.trk_ids[j]] * f.iou[i * nt + j];
    const auto pairs = maximise(score, ng, nt);
    for (int a = 0; a < kNumAlphas; ++a) {
      int64_t num = 0;
      for (auto [i, j] : pairs) {
        const double iou = f.iou[i * nt + j];
        if (iou < alpha(a) - kEps) continue;
        ++num;
        loc[a] += iou;
        matches[a][f.gt_ids[i] * T + f.trk_ids[j]] += 1;
      }
      tp[a] += num;
      res.hota_fn[a] += ng - num;
      res.hota_fp[a] += nt - num;
    }
  }
  for (int a = 0; a < kNumAlphas; ++a) {
    double ass_a = 0, ass_re = 0, ass_pr = 0;
    for (int64_t g = 0; g < G; ++g)
      for (int64_t t = 0; t < T; ++t) {
        const double m = matches[a][g * T + t];
        if (m == 0) continue;
        ass_a += m * m / std::max(1.0, gt_count[g] + trk_count[t] - m);
        ass_re += m * m / std::max(1.0, gt_count[g]);
        ass_pr += m * m / std::max(1.0, trk_count[t]);
      }
    // TrackEval's AssA is this sum / max(1, TP); combining weights it back by TP, so the
    // sum itself is what adds up across sequences.
    res.hota_tp[a] += tp[a];
    res.ass_a_sum[a] += ass_a;
    res.ass_re_sum[a] += ass_re;
    res.ass_pr_sum[a] += ass_pr;
    res.loc_sum[a] += loc[a];
  }
}

}  // namespace

double box_iou(const Box& a, const Box& b) {
  const double area_a = a.w * a.h, area_b = b.w * b.h;
  const double iw = std::max(std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x), 0.0);
  const double ih = std::max(std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y), 0.0);
  double inter = iw * ih, uni = area_a + area_b - inter;
  if (area_a <= kEps || area_b <= kEps || uni <= kEps) inter = 0;
  if (uni <= kEps) uni = 1;
  return inter / uni;
}

SequenceData prepare_sequence(const std::vector<Box>& gt, const std::vector<Box>& results,
                              int64_t num_frames, bool preprocess) {
  std::vector<std::vector<const Box*>> gt_at(num_frames), trk_at(num_frames);
  for (const auto& b : gt)
    if (b.frame >= 1 && b.frame <= num_frames) gt_at[b.frame - 1].push_back(&b);
  for (const auto& b : results)
    if (b.frame >= 1 && b.frame <= num_frames) trk_at[b.frame - 1].push_back(&b);

  std::vector<std::vector<const Box*>> gt_keep(num_frames), trk_keep(num_frames);
  for (int64_t f = 0; f < num_frames; ++f) {
    const auto& g = gt_at[f];
    const auto& t = trk_at[f];
    std::vector<char> drop_trk(t.size(), 0);
    if (preprocess && !g.empty() && !t.empty()) {
      const auto iou = iou_matrix(g, t);
      std::vector<double> score(iou);
      for (double& s : score)
        if (s < 0.5 - kEps) s = 0;
      for (auto [i, j] : maximise(score, g.size(), t.size())) {
        const int cls = g[i]->cls;
        if (score[i * t.size() + j] > kEps && (cls == 2 || cls == 7 || cls == 8 || cls == 12)) drop_trk[j] = 1;
      }
    }
    for (size_t j = 0; j < t.size(); ++j)
      if (!drop_trk[j]) trk_keep[f].push_back(t[j]);
    for (const auto* b : g)
      if (b->score != 0 && (!preprocess || b->cls == 1)) gt_keep[f].push_back(b);
  }

  // Relabel the ids that remain to 0..n-1 in ascending order, as TrackEval.
  std::map<int64_t, int64_t> gt_label, trk_label;
  for (int64_t f = 0; f < num_frames; ++f) {
    for (const auto* b : gt_keep[f]) gt_label.emplace(b->id, 0);
    for (const auto* b : trk_keep[f]) trk_label.emplace(b->id, 0);
  }
  int64_t next = 0;
  for (auto& [id, label] : gt_label) label = next++;
  next = 0;
  for (auto& [id, label] : trk_label) label = next++;

  SequenceData seq;
  seq.num_gt_ids = gt_label.size();
  seq.num_trk_ids = trk_label.size();
  seq.frames.resize(num_frames);
  for (int64_t f = 0; f < num_frames; ++f) {
    auto& out = seq.frames[f];
    for (const auto* b : gt_keep[f]) out.gt_ids.push_back(gt_label[b->id]);
    for (const auto* b : trk_keep[f]) out.trk_ids.push_back(trk_label[b->id]);
    out.iou = iou_matrix(gt_keep[f], trk_keep[f]);
  }
  return seq;
}

MotCounts& MotCounts::operator+=(const MotCounts& o) {
  clr_tp += o.clr_tp, clr_fn += o.clr_fn, clr_fp += o.clr_fp, idsw += o.idsw;
  mt += o.mt, pt += o.pt, ml += o.ml, frag += o.frag, motp_sum += o.motp_sum;
  idtp += o.idtp, idfn += o.idfn, idfp += o.idfp;
  for (int a = 0; a < kNumAlphas; ++a) {
    hota_tp[a] += o.hota_tp[a], hota_fn[a] += o.hota_fn[a], hota_fp[a] += o.hota_fp[a];
    ass_a_sum[a] += o.ass_a_sum[a], ass_re_sum[a] += o.ass_re_sum[a], ass_pr_sum[a] += o.ass_pr_sum[a];
    loc_sum[a] += o.loc_sum[a];
  }
  return *this;
}

MotCounts evaluate_sequence(const SequenceData& seq) {
  MotCounts res;
  evaluate_clear(seq, res);
  evaluate_identity(seq, res);
  evaluate_hota(seq, res);
  return res;
}

MotMetrics summarize(const MotCounts& c) {
  MotMetrics m;
  m.counts = c;
  const double gt_dets = std::max<double>(1, c.clr_tp + c.clr_fn);
  m.mota = (c.clr_tp - c.clr_fp - c.idsw) / gt_dets;
  m.moda = (c.clr_tp - c.clr_fp) / gt_dets;
  m.smota = (c.motp_sum - c.clr_fp - c.idsw) / gt_dets;
  m.motp = c.motp_sum / std::max<double>(1, c.clr_tp);
  m.clr_re = c.clr_tp / std::max<double>(1, c.clr_tp + c.clr_fn);
  m.clr_pr = c.clr_tp / std::max<double>(1, c.clr_tp + c.clr_fp);
  m.idf1 = c.idtp / std::max(1.0, c.idtp + 0.5 * c.idfp + 0.5 * c.idfn);
  m.idr = c.idtp / std::max<double>(1, c.idtp + c.idfn);
  m.idp = c.idtp / std::max<double>(1, c.idtp + c.idfp);
  for (int a = 0; a < kNumAlphas; ++a) {
    const double tp = c.hota_tp[a], fn = c.hota_fn[a], fp = c.hota_fp[a];
    const double det_a = tp / std::max(1.0, tp + fn + fp);
    const double ass_a = c.ass_a_sum[a] / std::max(1.0, tp);
    const double loc_a = std::max(1e-10, c.loc_sum[a]) / std::max(1e-10, tp);
    const double hota = std::sqrt(det_a * ass_a);
    m.det_a += det_a / kNumAlphas;
    m.ass_a += ass_a / kNumAlphas;
    m.loc_a += loc_a / kNumAlphas;
    m.hota += hota / kNumAlphas;
    m.det_re += tp / std::max(1.0, tp + fn) / kNumAlphas;
    m.det_pr += tp / std::max(1.0, tp + fp) / kNumAlphas;
    m.ass_re += c.ass_re_sum[a] / std::max(1.0, tp) / kNumAlphas;
    m.ass_pr += c.ass_pr_sum[a] / std::max(1.0, tp) / kNumAlphas;
    if (a == 0) m.hota0 = hota, m.loc_a0 = loc_a;
  }
  return m;
}

}  // namespace vss::track
