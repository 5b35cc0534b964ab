// vss-segment: semantic segmentation with a VSS segmentor (UPerNet / FPN / VM-UNet, heads.md §2).
//   vss-segment -i FILE|DIR|GLOB -o DIR --config FILE --weights FILE [--mode whole|slide]
//               [--crop 512] [--stride 341] [--gt DIR [--reduce-zero-label] [--binary]
//               [--ignore-index 255]] [--palette FILE] [--alpha 0.5] [--save-probs]
//               [--device cpu|cuda[:i]] [--dtype fp32|bf16] [--json] [--set key=value]
// writes, per input <name>: DIR/<name>.png (class ids, 8-bit; 16-bit above 256 classes) at the
// input's size, DIR/<name>_overlay.png (the palette's colours blended over the image) and with
// --save-probs DIR/<name>_probs.safetensors ("probs": float16 [K, H, W] softmax). With --gt it
// scores the masks as mmseg's IoUMetric (conventions.md §3.2) and prints mmseg's tables.
//   vss-segment eval --gt DIR|FILE --res DIR|FILE --num-classes N [--ignore-index 255]
//                    [--reduce-zero-label] [--binary] [--palette FILE] [--json]
//   vss-segment make-data --out DIR --num N --size S|HxW --seed S      generated scenes
//   vss-segment export --run RUN_DIR [--checkpoint last|best] [--no-ema] --out FILE
// Every input is checked (names, ground truth, sizes, label values, palette) before anything is
// written, and every file is written to a temporary name and renamed, so an error never leaves
// a half-written output.
#include "apps/segment/commands.h"
#include "core/cli.h"

int main(int argc, char** argv) {
  return vss::run_app("vss-segment", argc, argv, [](const std::vector<std::string>& args) {
    return vss::run_subcommand(args,
                               {{"eval", vss_segment::run_eval},
                                {"make-data", vss_segment::run_make_data},
                                {"export", vss_segment::run_export}},
                               vss_segment::run_segment);
  });
}
