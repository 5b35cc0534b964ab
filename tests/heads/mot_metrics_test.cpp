// MOT metrics: hand-computed cases from the TrackEval formulas (conventions.md §1.3), and the
// real MOTChallenge 2015 TUD-Campus / TUD-Stadtmitte gt + tracker output shipped with
// motmetrics, scored by pip's trackeval 1.3.0 (HOTA/CLEAR/Identity, no preprocessing as
// MOT15) and motmetrics 1.4.0 (MOTA/IDF1/IDs).
#include "heads/track/mot_metrics.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

namespace vss::test {
namespace {

using track::Box;
using track::evaluate_sequence;
using track::prepare_sequence;
using track::summarize;

Box box(int64_t frame, int64_t id, double x, double y, double w = 10, double h = 10) {
  Box b;
  b.frame = frame, b.id = id, b.x = x, b.y = y, b.w = w, b.h = h;
  return b;
}

track::MotCounts score(const std::vector<Box>& gt, const std::vector<Box>& res, int64_t frames, bool preproc = false) {
  return evaluate_sequence(prepare_sequence(gt, res, frames, preproc));
}

TEST(MotMetrics, PerfectTrackingIsOneEverywhere) {
  std::vector<Box> gt;
  for (int f = 1; f <= 3; ++f) gt.push_back(box(f, 1, 10.0 * f, 0)), gt.push_back(box(f, 2, 100, 5.0 * f));
  auto res = gt;
  for (auto& b : res) b.id += 40;  // tracker ids need not equal gt ids
  const auto m = summarize(score(gt, res, 3));
  for (double v : {m.mota, m.motp, m.moda, m.idf1, m.idr, m.idp, m.hota, m.det_a, m.ass_a, m.loc_a, m.det_re, m.det_pr,
                   m.ass_re, m.ass_pr, m.hota0, m.loc_a0})
    EXPECT_DOUBLE_EQ(v, 1.0);
  EXPECT_EQ(m.counts.idsw, 0);
  EXPECT_EQ(m.counts.mt, 2);
  EXPECT_EQ(m.counts.frag, 0);
}

// One gt id over 4 frames; the tracker follows it perfectly but changes id 10 -> 20 at frame 3.
track::MotCounts id_switch_case() {
  std::vector<Box> gt, res;
  for (int f = 1; f <= 4; ++f) gt.push_back(box(f, 1, f, 0)), res.push_back(box(f, f <= 2 ? 10 : 20, f, 0));
  return score(gt, res, 4);
}

TEST(MotMetrics, IdSwitchByHand) {
  const auto m = summarize(id_switch_case());
  EXPECT_EQ(m.counts.clr_tp, 4);
  EXPECT_EQ(m.counts.idsw, 1);
  EXPECT_EQ(m.counts.frag, 0);
  EXPECT_DOUBLE_EQ(m.mota, 0.75);  // (4 - 0 - 1) / 4
  // IDF1: gt matched to one tracker id for 2 of 4 frames: IDTP 2, IDFN 2, IDFP 2.
  EXPECT_EQ(m.counts.idtp, 2);
  EXPECT_EQ(m.counts.idfp, 2);
  EXPECT_EQ(m.counts.idfn, 2);
  EXPECT_DOUBLE_EQ(m.idf1, 0.5);
  // HOTA: DetA 1; AssA = (2*2/(4+2-2) + 2*2/(4+2-2)) / 4 = 0.5; AssRe 0.5, AssPr 1.
  EXPECT_DOUBLE_EQ(m.det_a, 1.0);
  EXPECT_NEAR(m.ass_a, 0.5, 1e-15);
  EXPECT_NEAR(m.ass_re, 0.5, 1e-15);
  EXPECT_NEAR(m.ass_pr, 1.0, 1e-15);
  EXPECT_NEAR(m.hota, std::sqrt(0.5), 1e-15);
}

// One gt id over 5 frames, tracked by id 7 except frame 3, where the only tracker box
// (id 8) is far away: a false positive, a miss, and a fragmentation. Tracked 4/5 = 0.8 is
// not "> 0.8", so the gt is PT, not MT.
track::MotCounts fragment_case() {
  std::vector<Box> gt, res;
  for (int f = 1; f <= 5; ++f) {
    gt.push_back(box(f, 1, 0, 0));
    res.push_back(f == 3 ? box(f, 8, 500, 500) : box(f, 7, 0, 0));
  }
  return score(gt, res, 5);
}

TEST(MotMetrics, FragmentationAndFalsePositiveByHand) {
  const auto m = summarize(fragment_case());
  EXPECT_EQ(m.counts.clr_tp, 4);
  EXPECT_EQ(m.counts.clr_fn, 1);
  EXPECT_EQ(m.counts.clr_fp, 1);
  EXPECT_EQ(m.counts.idsw, 0);
  EXPECT_EQ(m.counts.frag, 1);
  EXPECT_EQ(m.counts.mt, 0);
  EXPECT_EQ(m.counts.pt, 1);
  EXPECT_EQ(m.counts.ml, 0);
  EXPECT_DOUBLE_EQ(m.mota, 0.6);  // (4 - 1 - 0) / 5
  EXPECT_DOUBLE_EQ(m.clr_re, 0.8);
  EXPECT_DOUBLE_EQ(m.clr_pr, 0.8);
  EXPECT_EQ(m.counts.idtp, 4);
  EXPECT_DOUBLE_EQ(m.idf1, 0.8);  // 4 / (4 + 0.5 + 0.5)
  // HOTA: TP 4, FN 1, FP 1 at every alpha: DetA 4/6; AssA = 4*4/(5+4-4)/4 = 0.8.
  EXPECT_NEAR(m.det_a, 4.0 / 6.0, 1e-15);
  EXPECT_NEAR(m.ass_a, 0.8, 1e-15);
  EXPECT_NEAR(m.ass_pr, 1.0, 1e-15);
  EXPECT_NEAR(m.hota, std::sqrt(4.0 / 6.0 * 0.8), 1e-15);
  EXPECT_DOUBLE_EQ(m.loc_a, 1.0);
}

TEST(MotMetrics, HotaAlphasOnAHalfOverlap) {
  // IoU exactly 0.5: a TP for the 10 alphas 0.05..0.50, a FN + FP for the 9 above.
  const auto m = summarize(score({box(1, 1, 0, 0, 10, 10)}, {box(1, 1, 0, 0, 10, 5)}, 1));
  EXPECT_NEAR(m.hota, 10.0 / 19.0, 1e-15);
  EXPECT_NEAR(m.det_a, 10.0 / 19.0, 1e-15);
  EXPECT_NEAR(m.ass_a, 10.0 / 19.0, 1e-15);
  EXPECT_NEAR(m.loc_a, (10 * 0.5 + 9 * 1.0) / 19.0, 1e-15);  // LocA is 1 where TP = 0
  EXPECT_DOUBLE_EQ(m.hota0, 1.0);
  EXPECT_DOUBLE_EQ(m.loc_a0, 0.5);
  EXPECT_DOUBLE_EQ(m.mota, 1.0);  // CLEAR's threshold is IoU >= 0.5
  EXPECT_DOUBLE_EQ(m.motp, 0.5);
}

TEST(MotMetrics, CombiningSumsCountsNotRatios) {
  auto c = id_switch_case();
  c += fragment_case();
  const auto m = summarize(c);
  EXPECT_NEAR(m.mota, 6.0 / 9.0, 1e-15);  // (8 - 1 - 1) / 9
  EXPECT_NEAR(m.idf1, 6.0 / 9.0, 1e-15);  // IDTP 6, IDFP 3, IDFN 3
  EXPECT_NEAR(m.det_a, 0.8, 1e-15);       // TP 8, FN 1, FP 1
  EXPECT_NEAR(m.ass_a, (0.5 * 4 + 0.8 * 4) / 8, 1e-15);  // TP-weighted
  EXPECT_NEAR(m.hota, std::sqrt(0.8 * 0.65), 1e-15);
}

TEST(MotMetrics, Mot17PreprocessingDropsDistractorMatchesAndIgnoredGt) {
  // Gt: a pedestrian, a distractor (class 8) and a zero-marked pedestrian; one tracker box on each.
  std::vector<Box> gt = {box(1, 1, 0, 0), box(1, 2, 100, 0), box(1, 3, 200, 0)};
  gt[0].cls = 1, gt[1].cls = 8, gt[2].cls = 1, gt[2].score = 0;
  const std::vector<Box> res = {box(1, 1, 0, 0), box(1, 2, 100, 0), box(1, 3, 200, 0)};
  // With preprocessing: gt = {1}, tracker = {1, 3} (the distractor's match is removed, the
  // box on the zero-marked pedestrian stays): TP 1, FP 1.
  const auto pre = summarize(score(gt, res, 1, true));
  EXPECT_EQ(pre.counts.clr_tp, 1);
  EXPECT_EQ(pre.counts.clr_fp, 1);
  EXPECT_DOUBLE_EQ(pre.mota, 0.0);
  // Without: only zero-marked gt go: gt = {1, 2}, all three tracker boxes: TP 2, FP 1.
  const auto raw = summarize(score(gt, res, 1, false));
  EXPECT_EQ(raw.counts.clr_tp, 2);
  EXPECT_EQ(raw.counts.clr_fp, 1);
  EXPECT_DOUBLE_EQ(raw.mota, 0.5);
}

TEST(MotMetrics, EmptyTrackerAndEmptyGt) {
  const auto no_trk = summarize(score({box(1, 1, 0, 0), box(2, 1, 0, 0)}, {}, 2));
  EXPECT_EQ(no_trk.counts.clr_fn, 2);
  EXPECT_EQ(no_trk.counts.ml, 1);
  EXPECT_EQ(no_trk.counts.idfn, 2);
  EXPECT_DOUBLE_EQ(no_trk.hota, 0.0);
  EXPECT_DOUBLE_EQ(no_trk.loc_a, 1.0);
  const auto no_gt = summarize(score({}, {box(1, 1, 0, 0)}, 2));
  EXPECT_EQ(no_gt.counts.clr_fp, 1);
  EXPECT_EQ(no_gt.counts.idfp, 1);
  EXPECT_DOUBLE_EQ(no_gt.mota, -1.0);
}

constexpr char kMotMetricsOracle[] = R"PY(
import os, tempfile, shutil
import numpy as np
np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # motmetrics 1.4.0 on numpy 2
import motmetrics as mm
import trackeval
data = os.path.join(os.path.dirname(mm.__file__), "data")
seqs = ["TUD-Campus", "TUD-Stadtmitte"]
accs = []
for s in seqs:
    gt = mm.io.loadtxt(os.path.join(data, s, "gt.txt"), fmt="mot15-2D", min_confidence=1)
    ts = mm.io.loadtxt(os.path.join(data, s, "test.txt"), fmt="mot15-2D")
    accs.append(mm.utils.compare_to_groundtruth(gt, ts, "iou", distth=0.5))
mh = mm.metrics.create()
summ = mh.compute_many(accs, metrics=["mota", "motp", "idf1", "num_switches", "num_false_positives", "num_misses", "num_detections", "idtp", "idfp", "idfn"], names=seqs, generate_overall=True)
mm_res = {name: {k: float(summ.loc[name, k]) for k in summ.columns} for name in summ.index}
# TrackEval layout
root = tempfile.mkdtemp()
gtf = os.path.join(root, "gt"); trf = os.path.join(root, "trackers")
os.makedirs(os.path.join(gtf, "seqmaps"))
with open(os.path.join(gtf, "seqmaps", "MOT15-train.txt"), "w") as f:
    f.write("name\n" + "".join(s + "\n" for s in seqs))
for s in seqs:
    d = os.path.join(gtf, "MOT15-train", s); os.makedirs(os.path.join(d, "gt"))
    shutil.copy(os.path.join(data, s, "gt.txt"), os.path.join(d, "gt", "gt.txt"))
    n = int(max(np.loadtxt(os.path.join(data, s, f), delimiter=",")[:, 0].max() for f in ("gt.txt", "test.txt")))
    with open(os.path.join(d, "seqinfo.ini"), "w") as f:
        f.write(f"[Sequence]\nname={s}\nseqLength={n}\n")
    t = os.path.join(trf, "MOT15-train", "t", "data"); os.makedirs(t, exist_ok=True)
    shutil.copy(os.path.join(data, s, "test.txt"), os.path.join(t, s + ".txt"))
ec = trackeval.Evaluator.get_default_eval_config()
ec.update(USE_PARALLEL=False, PRINT_RESULTS=False, PRINT_CONFIG=False, OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False, PLOT_CURVES=False, TIME_PROGRESS=False, OUTPUT_EMPTY_CLASSES=False)
dc = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
dc.update(GT_FOLDER=gtf, TRACKERS_FOLDER=trf, BENCHMARK="MOT15", SPLIT_TO_EVAL="train", TRACKERS_TO_EVAL=["t"], DO_PREPROC=False, PRINT_CONFIG=False)
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    res, _ = trackeval.Evaluator(ec).evaluate([trackeval.datasets.MotChallenge2DBox(dc)], [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()])
te = {}
for name, r in res["MotChallenge2DBox"]["t"].items():
    p = r["pedestrian"]; h, c, i = p["HOTA"], p["CLEAR"], p["Identity"]
    te[name] = {"HOTA": float(np.mean(h["HOTA"])), "DetA": float(np.mean(h["DetA"])), "AssA": float(np.mean(h["AssA"])),
                "LocA": float(np.mean(h["LocA"])), "HOTA(0)": float(h["HOTA(0)"]), "LocA(0)": float(h["LocA(0)"]),
                "DetRe": float(np.mean(h["DetRe"])), "AssPr": float(np.mean(h["AssPr"])),
                "MOTA": float(c["MOTA"]), "MOTP": float(c["MOTP"]), "IDSW": int(c["IDSW"]), "Frag": int(c["Frag"]),
                "MT": int(c["MT"]), "PT": int(c["PT"]), "ML": int(c["ML"]), "CLR_FP": int(c["CLR_FP"]), "CLR_FN": int(c["CLR_FN"]),
                "IDF1": float(i["IDF1"]), "IDTP": int(i["IDTP"])}
shutil.rmtree(root)
print("data", data)
for tool, table in (("motmetrics", mm_res), ("trackeval", te)):
    for name, row in table.items():
        for k, v in row.items():
            print(tool, "COMBINED" if name in ("OVERALL", "COMBINED_SEQ") else name, k, repr(float(v)))
)PY";

TEST(MotMetrics, MatchesTrackEvalAndMotmetricsOnTud) {
  if (!python_has({"motmetrics", "trackeval", "scipy"}))
    GTEST_SKIP() << "motmetrics / trackeval are not importable by $VSS_PYTHON (tools/bootstrap.sh installs them)";
  std::string out;
  ASSERT_EQ(run_python(kMotMetricsOracle, {}, &out), 0) << out;
  std::map<std::string, double> ref;  // "<tool> <seq> <key>" -> value
  std::filesystem::path data;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ss(line);
    std::string tool, seq, key;
    ss >> tool;
    if (tool == "data") {
      ss >> data;
      continue;
    }
    double v = 0;
    if (ss >> seq >> key >> v) ref[tool + " " + seq + " " + key] = v;
  }
  ASSERT_FALSE(data.empty()) << out;

  track::MotCounts combined;
  for (const std::string seq : {"TUD-Campus", "TUD-Stadtmitte", "COMBINED"}) {
    SCOPED_TRACE(seq);
    track::MotCounts c;
    if (seq == "COMBINED") {
      c = combined;
    } else {
      const auto gt = track::read_boxes(data / seq / "gt.txt", track::FileKind::GroundTruth);
      const auto res = track::read_boxes(data / seq / "test.txt", track::FileKind::Results);
      ASSERT_FALSE(gt.has_class);  // MOT15: no preprocessing
      int64_t frames = 0;
      for (const auto* f : {&gt, &res})
        for (const auto& b : f->boxes) frames = std::max(frames, b.frame);
      c = evaluate_sequence(prepare_sequence(gt.boxes, res.boxes, frames, false));
      combined += c;
    }
    const auto m = summarize(c);
    auto te = [&](const std::string& key) { return ref.at("trackeval " + seq + " " + key); };
    auto mm = [&](const std::string& key) { return ref.at("motmetrics " + seq + " " + key); };
    // TrackEval: every metric to rounding.
    EXPECT_NEAR(m.hota, te("HOTA"), 1e-12);
    EXPECT_NEAR(m.det_a, te("DetA"), 1e-12);
    EXPECT_NEAR(m.ass_a, te("AssA"), 1e-12);
    EXPECT_NEAR(m.loc_a, te("LocA"), 1e-12);
    EXPECT_NEAR(m.hota0, te("HOTA(0)"), 1e-12);
    EXPECT_NEAR(m.loc_a0, te("LocA(0)"), 1e-12);
    EXPECT_NEAR(m.det_re, te("DetRe"), 1e-12);
    EXPECT_NEAR(m.ass_pr, te("AssPr"), 1e-12);
    EXPECT_NEAR(m.mota, te("MOTA"), 1e-12);
    EXPECT_NEAR(m.motp, te("MOTP"), 1e-12);
    EXPECT_NEAR(m.idf1, te("IDF1"), 1e-12);
    EXPECT_EQ(m.counts.idsw, te("IDSW"));
    EXPECT_EQ(m.counts.frag, te("Frag"));
    EXPECT_EQ(m.counts.mt, te("MT"));
    EXPECT_EQ(m.counts.pt, te("PT"));
    EXPECT_EQ(m.counts.ml, te("ML"));
    EXPECT_EQ(m.counts.clr_fp, te("CLR_FP"));
    EXPECT_EQ(m.counts.clr_fn, te("CLR_FN"));
    EXPECT_EQ(m.counts.idtp, te("IDTP"));
    // motmetrics (independent code): MOTA, IDF1, IDs, FP, FN; its MOTP is the distance 1 - IoU.
    EXPECT_NEAR(m.mota, mm("mota"), 1e-12);
    EXPECT_NEAR(m.idf1, mm("idf1"), 1e-12);
    EXPECT_NEAR(1.0 - m.motp, mm("motp"), 1e-12);
    EXPECT_EQ(m.counts.idsw, mm("num_switches"));
    EXPECT_EQ(m.counts.clr_fp, mm("num_false_positives"));
    EXPECT_EQ(m.counts.clr_fn, mm("num_misses"));
  }
  EXPECT_NEAR(summarize(combined).mota, 0.5551, 5e-5);  // oracles.md
}

}  // namespace
}  // namespace vss::test
