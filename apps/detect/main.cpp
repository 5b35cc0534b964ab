// vss-detect: object detection with a CenterNet head on a VSS backbone.
//   vss-detect --weights FILE [--config FILE] (--images FILE|DIR|GLOB [--ann instances.json] | --seq DIR)
//              -o OUT [--format coco|mot] [--batch N] [--score-thresh S] [--device cpu|cuda[:i]] [--dtype fp32|bf16]
// runs the detector on images (COCO results JSON: image ids from --ann's file names, else 1..N
// in sorted order) or on a MOTChallenge sequence's frames (MOT det format, det/det.txt's).
//   vss-detect eval --gt instances.json --res detections.json [--json]
// scores COCO results as pycocotools' COCOeval does (bbox): AP AP50 AP75 APs APm APl AR1 AR10 AR100.
//   vss-detect export --run RUN_DIR [--checkpoint best] --out FILE   weights for --weights
#include "apps/detect/commands.h"
#include "core/cli.h"

int main(int argc, char** argv) {
  return vss::run_app("vss-detect", argc, argv, [](const std::vector<std::string>& args) {
    return vss::run_subcommand(args, {{"eval", vss_detect::run_eval}, {"export", vss_detect::run_export}},
                               vss_detect::run_detect);
  });
}
