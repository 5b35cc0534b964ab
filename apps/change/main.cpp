// vss-change: binary change detection on bitemporal image pairs (MambaBCD / AWMambaBCD,
// heads.md §3) and, with --semantic, semantic change detection (MambaSCD / AWMambaSCD,
// specs/scd.md).
//   vss-change --a A_DIR|FILE --b B_DIR|FILE -o OUT --config FILE --weights FILE [--gt DIR|FILE]
//              [--tile 256 [--tile-stride N]] [--threshold 0.5] [--device cpu|cuda[:i]]
//              [--dtype fp32|bf16] [--json] [--set key=value]
// pairs the files of A and B by name (LEVIR-CD's A/x.png + B/x.png), writes OUT/<name>.png
// (0 / 255 masks, as LEVIR-CD's labels) and, with --gt, OUT/compare/<name>.png (TP white, TN
// black, FP red, FN green) and the metrics of conventions.md §3.4 per image and over the
// whole set (one confusion matrix, not a mean of per-image scores). --tile runs large scenes
// (LEVIR-CD's 1024² images; models are trained on 256² crops) in windows.
// With --semantic (a mamba_scd config) it writes OUT/change/<name>.png (0/255),
// OUT/label{1,2}/<name>.png (class indices, 0 = no change), OUT/label{1,2}_colour/<name>.png
// (SECOND's colours) and, with --gt ROOT (label1/ + label2/ or GT_T1/ + GT_T2/), the SeK
// metrics (7-class protocol) per pair and combined.
//   vss-change eval --gt DIR|FILE --res DIR|FILE [--json]     scores existing 0/255 masks
//   vss-change eval --semantic --gt ROOT --res ROOT [--json]  scores existing land-cover maps
//   vss-change make-data --out DIR [--num N] [--size S] [--seed S] [--split NAME] [--clean]
//                        [--semantic [--layout second|changemamba]]
//   vss-change export --run RUN_DIR [--checkpoint best|last] [--no-ema] --out FILE
// A name without all its partner files is skipped with a warning and listed in the summary.
// Every file is written to a temporary name and renamed, so an error or an interrupt never
// leaves a half-written one; bad input stops with one line naming the file.
#include "apps/change/commands.h"
#include "core/cli.h"

int main(int argc, char** argv) {
  return vss::run_app("vss-change", argc, argv, [](const std::vector<std::string>& args) {
    return vss::run_subcommand(args,
                               {{"eval", vss_change::run_eval},
                                {"make-data", vss_change::run_make_data},
                                {"export", vss_change::run_export}},
                               vss_change::run_change);
  });
}
