// vss-segment make-data: generated scenes (images and class-id masks) to train and test on.
#include "apps/segment/commands.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "datasets/synthetic_scenes.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

namespace vss_segment {

namespace fs = std::filesystem;

// commands.h: --size here, --crop and --stride in segment.cpp.
std::array<int64_t, 2> parse_hw(const std::string& text, const std::string& what) {
  const auto x = text.find('x');
  const auto v = vss::parse_int_list(x == std::string::npos ? text : text.substr(0, x) + "," + text.substr(x + 1), what);
  if (v.empty() || v.size() > 2 || v[0] < 1 || v.back() < 1)
    throw vss::Error(what + ": expected N or HxW (positive), got '" + text + "'");
  return {v[0], v.back()};
}

int run_make_data(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-segment make-data",
                   "Writes generated scenes (datasets/synthetic_scenes.h: textured discs, rectangles, triangles and "
                   "striped blobs on textured backgrounds) as DIR/images/scene_<i>.png + DIR/masks/scene_<i>.png "
                   "(class ids 0 background, 1 disc, 2 rectangle, 3 triangle, 4 striped blob).");
  auto& out = p.option("--out", "DIR", "", "dataset root", true);
  auto& num = p.option("--num", "N", "16", "number of scenes");
  auto& size = p.option("--size", "S|HxW", "128", "image size");
  auto& seed = p.option("--seed", "S", "3", "split seed: scene i is a pure function of (S, i) (the bundled model trained on seed 1)");
  const vss::SyntheticScenesOptions defaults;
  auto& max_objects = p.option("--max-objects", "N", std::to_string(defaults.max_objects), "objects per scene: 1..N");
  char noise_default[32];
  std::snprintf(noise_default, sizeof noise_default, "%g", defaults.noise);
  auto& noise = p.option("--noise", "SIGMA", noise_default, "pixel noise (0..255 scale)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::SyntheticScenesOptions o;
  try {
    o.size = num.as_int(1, vss::kMaxListEntry);
    const auto hw = parse_hw(size.str(), "--size");
    o.height = hw[0];
    o.width = hw[1];
    o.seed = static_cast<uint64_t>(seed.as_int());
    o.max_objects = max_objects.as_int(1, 1024);
    o.noise = noise.as_double();
    if (!(o.noise >= 0)) throw vss::Error("--noise must be >= 0");
  } catch (const vss::Error& e) {
    return vss::usage_error("vss-segment make-data", e.what());
  }
  const vss::SyntheticScenes scenes(o);
  const fs::path root = out.str();
  fs::create_directories(root / "images");
  fs::create_directories(root / "masks");
  vss::Progress bar(o.size, "make-data", {.unit = "scene"});
  for (int64_t i = 0; i < o.size; ++i) {
    const vss::SegSample s = scenes.sample(i);
    vss::InterruptDeferral whole_pair;  // Ctrl-C leaves the image and its mask, or neither
    vss::write_image((root / "images" / (s.name + ".png")).string(), s.image.permute({1, 2, 0}).contiguous());
    vss::write_image((root / "masks" / (s.name + ".png")).string(), s.label.to(torch::kByte).unsqueeze(2).contiguous());
    bar.advance();
  }
  bar.finish();
  std::printf("wrote %lld scene(s) of %lldx%lld to %s/{images,masks}\n", static_cast<long long>(o.size),
              static_cast<long long>(o.height), static_cast<long long>(o.width), root.string().c_str());
  return 0;
}

}  // namespace vss_segment
