// vss-track eval: scores existing tracker results as TrackEval does.
#include "apps/track/commands.h"
#include "apps/track/scores.h"
#include "core/cli.h"
#include "core/error.h"
#include "datasets/mot_challenge.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace vss_track {

namespace fs = std::filesystem;

namespace {

struct SequenceFiles {
  std::string name;
  fs::path gt, res, seqinfo;  // seqinfo may be missing for a lone gt file only
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
    names = vss::track::read_seqmap(seqmap);
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
    // As TrackEval: a folder's sequences need their length (frames beyond it are errors).
    if (!fs::exists(s.seqinfo)) vss::throw_file_error(s.seqinfo.string(), "missing seqinfo.ini of sequence " + name);
    seqs.push_back(std::move(s));
  }
  return seqs;
}

}  // namespace

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
  if (!json) print_header();
  for (const auto& s : sequences) {
    const int64_t seq_length = fs::exists(s.seqinfo) ? vss::track::read_seqinfo(s.seqinfo).seq_length : 0;
    const auto counts = score_sequence(s.gt, s.res, seq_length, no_preproc);
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

}  // namespace vss_track
