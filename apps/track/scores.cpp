#include "apps/track/scores.h"

#include "datasets/mot_challenge.h"

#include <algorithm>
#include <cstdio>

namespace vss_track {

namespace fs = std::filesystem;

nlohmann::json to_json(const vss::track::MotMetrics& m) {
  const auto& c = m.counts;
  return {{"HOTA", m.hota},   {"DetA", m.det_a},      {"AssA", m.ass_a},   {"LocA", m.loc_a},   {"DetRe", m.det_re},
          {"DetPr", m.det_pr}, {"AssRe", m.ass_re},   {"AssPr", m.ass_pr}, {"HOTA(0)", m.hota0}, {"LocA(0)", m.loc_a0},
          {"MOTA", m.mota},   {"MOTP", m.motp},       {"MODA", m.moda},    {"sMOTA", m.smota},  {"CLR_Re", m.clr_re},
          {"CLR_Pr", m.clr_pr}, {"IDF1", m.idf1},     {"IDR", m.idr},      {"IDP", m.idp},      {"IDSW", c.idsw},
          {"Frag", c.frag},   {"MT", c.mt},           {"PT", c.pt},        {"ML", c.ml},        {"CLR_TP", c.clr_tp},
          {"CLR_FN", c.clr_fn}, {"CLR_FP", c.clr_fp}, {"IDTP", c.idtp},    {"IDFN", c.idfn},    {"IDFP", c.idfp}};
}

void print_row(const std::string& name, const vss::track::MotMetrics& m) {
  const auto& c = m.counts;
  std::printf("%-24s %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6lld %6lld %5lld %5lld %5lld %7lld %7lld\n", name.c_str(),
              100 * m.hota, 100 * m.det_a, 100 * m.ass_a, 100 * m.loc_a, 100 * m.mota, 100 * m.motp, 100 * m.idf1,
              static_cast<long long>(c.idsw), static_cast<long long>(c.frag), static_cast<long long>(c.mt),
              static_cast<long long>(c.pt), static_cast<long long>(c.ml), static_cast<long long>(c.clr_fp),
              static_cast<long long>(c.clr_fn));
}

// TrackEval's counts for one sequence from its gt and results files.
vss::track::MotCounts score_sequence(const fs::path& gt_file, const fs::path& res_file, int64_t seq_length,
                                     bool no_preproc) {
  const auto g = vss::track::read_boxes(gt_file, vss::track::FileKind::GroundTruth, seq_length);
  const auto r = vss::track::read_boxes(res_file, vss::track::FileKind::Results, seq_length);
  int64_t frames = seq_length;
  for (const auto* file : {&g, &r})
    for (const auto& b : file->boxes) frames = std::max(frames, b.frame);
  const bool preprocess = g.has_class && !no_preproc;
  return vss::track::evaluate_sequence(vss::track::prepare_sequence(g.boxes, r.boxes, frames, preprocess));
}

void print_header() {
  std::printf("%-24s %6s %6s %6s %6s %6s %6s %6s %6s %6s %5s %5s %5s %7s %7s\n", "sequence", "HOTA", "DetA", "AssA",
              "LocA", "MOTA", "MOTP", "IDF1", "IDSW", "Frag", "MT", "PT", "ML", "FP", "FN");
}

}  // namespace vss_track
