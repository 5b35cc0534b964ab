// vss-classify: image classification with a VSSM classifier.
//   vss-classify --weights W [--config C] [--classes FILE] [--json] IMAGE|FOLDER...
//       top-k classes of each image, in batches (--json: one JSON object per image and line);
//   vss-classify eval --data DIR [--labels FILE] --weights W [--config C] [--json]
//       top-1 / top-5 and per-class accuracy over an ImageFolder (DIR/<class>/*) or ImageNet's
//       flat validation folder with its labels file (datasets/image_folder.h);
//   vss-classify export --run RUN_DIR [--checkpoint best|last] [--no-ema] --out W
//       a vss-train run's weights with its model config, class names and eval transform, so
//       the two commands above need only --weights.
// Preprocessing is timm's eval transform (datasets/classification_pipeline.h): the shorter
// side resized (PIL's antialiased bicubic) to floor(size / crop_pct), centre crop size,
// normalised; the weights' own settings when they carry them, else 224 / 0.875 and ImageNet's
// mean / std. An image that does not decode is skipped with a warning naming it and counted in
// the summary.
#include "apps/classify/commands.h"
#include "core/cli.h"

int main(int argc, char** argv) {
  return vss::run_app("vss-classify", argc, argv, [](const std::vector<std::string>& args) {
    return vss::run_subcommand(args, {{"eval", vss_classify::run_eval}, {"export", vss_classify::run_export}},
                               vss_classify::run_classify);
  });
}
