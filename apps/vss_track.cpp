// vss-track: multi-object tracking on MOTChallenge-style data.
//   vss-track eval --gt FILE|DIR --res FILE|DIR [--seqmap FILE] [--no-preproc] [--json]
// scores existing tracker results the way TrackEval does (HOTA, CLEAR, Identity; conventions.md
// §1.3): per sequence and COMBINED (counts summed over sequences, not ratios averaged).
// With directories, --gt holds <seq>/gt/gt.txt (+ seqinfo.ini) and --res holds <seq>.txt,
// as TrackEval's GT_FOLDER and tracker data folder; a seqmap picks the sequences.
#include "core/cli.h"
#include "core/error.h"
#include "datasets/mot_challenge.h"
#include "heads/track/mot_metrics.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace {

struct SequenceFiles {
  std::string name;
  fs::path gt, res, seqinfo;  // seqinfo may not exist
};

std::vector<SequenceFiles> find_sequences(const fs::path& gt, const fs::path& res, const std::string& seqmap) {
  if (!fs::exists(gt)) vss::throw_file_error(gt.string(), "--gt: no such file or directory");
  if (!fs::exists(res)) vss::throw_file_error(res.string(), "--res: no such file or directory");
  if (!fs::is_directory(gt)) {
    if (fs::is_directory(res)) vss::throw_file_error(res.string(), "--res must be a file when --gt is a file");
    // <seq>/gt/gt.txt names the sequence after <seq>; any other file after itself.
    const bool in_layout = gt.parent_path().filename() == "gt";
    const fs::path seq_dir = in_layout ? gt.parent_path().parent_path() : gt.parent_path();
    return {{in_layout ? seq_dir.filename().string() : gt.stem().string(), gt, res, seq_dir / "seqinfo.ini"}};
  }
  if (!fs::is_directory(res)) vss::throw_file_error(res.string(), "--res must be a directory when --gt is a directory");
  std::vector<std::string> names;
  if (!seqmap.empty()) {
    names = vss::mot::read_seqmap(seqmap);
  } else {
    for (const auto& e : fs::directory_iterator(gt))
      if (fs::exists(e.path() / "gt" / "gt.txt")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    if (names.empty()) vss::throw_file_error(gt.string(), "no <seq>/gt/gt.txt under --gt");
  }
  std::vector<SequenceFiles> seqs;
  for (const auto& name : names) {
    SequenceFiles s{name, gt / name / "gt" / "gt.txt", res / (name + ".txt"), gt / name / "seqinfo.ini"};
    if (!fs::exists(s.gt)) vss::throw_file_error(s.gt.string(), "missing gt file of sequence " + name);
    if (!fs::exists(s.res)) vss::throw_file_error(s.res.string(), "missing results file of sequence " + name);
    seqs.push_back(std::move(s));
  }
  return seqs;
}

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

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-track eval",
                   "Scores tracker results against MOTChallenge gt as TrackEval does: HOTA, DetA, AssA, LocA, MOTA, "
                   "MOTP, IDF1, IDSW, ... per sequence and COMBINED.");
  auto& gt = p.option("--gt", "FILE|DIR", "", "gt.txt, or a folder of <seq>/gt/gt.txt", true);
  auto& res = p.option("--res", "FILE|DIR", "", "results file, or a folder of <seq>.txt", true);
  auto& seqmap = p.option("--seqmap", "FILE", "", "sequences to score (first line 'name'); default: all under --gt");
  auto& no_preproc = p.flag("--no-preproc",
                            "skip MOT17/20 preprocessing (distractor removal, class 1 only); it is off anyway "
                            "for gt without a class column (MOT15)");
  auto& json = p.flag("--json", "print JSON (fractions) instead of a table (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;

  const auto sequences = find_sequences(gt.str(), res.str(), seqmap.str());
  vss::track::MotCounts combined;
  nlohmann::json out = {{"sequences", nlohmann::json::object()}};
  if (!json)
    std::printf("%-24s %6s %6s %6s %6s %6s %6s %6s %6s %6s %5s %5s %5s %7s %7s\n", "sequence", "HOTA", "DetA", "AssA",
                "LocA", "MOTA", "MOTP", "IDF1", "IDSW", "Frag", "MT", "PT", "ML", "FP", "FN");
  for (const auto& s : sequences) {
    const int64_t seq_length = fs::exists(s.seqinfo) ? vss::mot::read_seqinfo(s.seqinfo).seq_length : 0;
    const auto g = vss::mot::read_boxes(s.gt, vss::mot::FileKind::GroundTruth, seq_length);
    const auto r = vss::mot::read_boxes(s.res, vss::mot::FileKind::Results, seq_length);
    int64_t frames = seq_length;
    for (const auto* file : {&g, &r})
      for (const auto& b : file->boxes) frames = std::max(frames, b.frame);
    const bool preprocess = g.has_class && !no_preproc;
    const auto counts = vss::track::evaluate_sequence(vss::track::prepare_sequence(g.boxes, r.boxes, frames, preprocess));
    combined += counts;
    const auto m = vss::track::summarize(counts);
    if (json) out["sequences"][s.name] = to_json(m);
    else print_row(s.name, m);
  }
  const auto m = vss::track::summarize(combined);
  if (json) {
    out["combined"] = to_json(m);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    print_row("COMBINED", m);
  }
  return 0;
}

int run(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "eval") return run_eval({args.begin() + 1, args.end()});
  vss::ArgParser p("vss-track", "Multi-object tracking. Sub-commands: eval (score existing results; see vss-track eval --help).");
  p.positional("COMMAND", "eval", 1);
  if (int rc = p.parse(args); rc >= 0) return rc;
  std::fprintf(stderr, "vss-track: unknown command '%s' (the tracker itself is not built yet; use: eval)\n",
               p.positionals().empty() ? "" : p.positionals()[0].c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-track", argc, argv, run); }
