// vss-track: multi-object tracking on MOTChallenge-style data.
//   vss-track --seq DIR [--seq DIR ...] | --data DIR [--seqmap FILE] | --det FILE
//             [--motion kalman|mtp] [--weights mtp.safetensors] [--config FILE] [--set k=v]
//             --out OUT_DIR [--gt auto|FILE|DIR] [--json] [--device cpu|cuda[:i]] [--video FILE|DIR]
// runs ByteTrack association (conventions.md §1.6) with the Kalman or the Mamba motion
// predictor (heads.md §4) on each sequence's det/det.txt and writes OUT_DIR/<seq>.txt in
// ByteTrack's 10-column format; with --gt it scores them as `eval` does.
//   vss-track eval --gt FILE|DIR --res FILE|DIR [--seqmap FILE] [--no-preproc] [--json]
// scores existing tracker results the way TrackEval does (HOTA, CLEAR, Identity; conventions.md
// §1.3): per sequence and COMBINED (counts summed over sequences, not ratios averaged).
// With directories, --gt holds <seq>/gt/gt.txt (+ seqinfo.ini) and --res holds <seq>.txt,
// as TrackEval's GT_FOLDER and tracker data folder; a seqmap picks the sequences.
//   vss-track --frames DIR | --input-video FILE | --seq DIR ... --detector WEIGHTS [--detector-config FILE] ...
// runs the detector (heads/detect) on every frame first, batched, and tracks its boxes with
// their scores instead of a det file.
//   vss-track detect --seq DIR -o det.txt --detector WEIGHTS   caches a detector's boxes as det.txt
//   vss-track make-data --out DIR [--sequences N] [--seed S] [--render] ...   synthetic sequences
//   vss-track export-mtp --run RUN_DIR [--checkpoint best] --out FILE   weights for --weights
#include "apps/track/commands.h"
#include "core/cli.h"

int main(int argc, char** argv) {
  return vss::run_app("vss-track", argc, argv, [](const std::vector<std::string>& args) {
    return vss::run_subcommand(args,
                               {{"eval", vss_track::run_eval},
                                {"detect", vss_track::run_detect},
                                {"make-data", vss_track::run_make_data},
                                {"export-mtp", vss_track::run_export_mtp}},
                               vss_track::run_track);
  });
}
