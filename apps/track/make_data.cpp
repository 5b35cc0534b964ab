// vss-track make-data: synthetic MOTChallenge-layout sequences.
#include "apps/track/commands.h"
#include "core/atomic_file.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/progress.h"
#include "datasets/mot_render.h"
#include "datasets/synthetic_mot.h"

#include <cstdio>
#include <filesystem>
#include <regex>

namespace vss_track {

namespace fs = std::filesystem;

int run_make_data(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-track make-data",
                   "Writes synthetic MOTChallenge-layout sequences (seqinfo.ini, gt/gt.txt, det/det.txt) of "
                   "dancers with non-linear motion, occlusions and a noisy detector, plus a seqmap.");
  auto& out = p.option("--out", "DIR", "", "output folder: DIR/<prefix>-NNNN/ and DIR/seqmap.txt", true);
  auto& count = p.option("--sequences", "N", "4", "number of sequences");
  auto& seed = p.option("--seed", "S", "1", "split seed: sequence i gets its own seed from (S, i); other seeds give other splits");
  auto& prefix = p.option("--prefix", "NAME", "synth", "sequence name prefix");
  auto& frames = p.option("--frames", "N", "300", "frames per sequence");
  auto& objects = p.option("--objects", "N", "10", "dancers per sequence");
  auto& render = p.flag("--render", "also render the frames (img1/000001.jpg ...): textured, articulated people, "
                                    "clutter and camera shake (datasets/mot_render.h)");
  auto& image_ext = p.option("--image-ext", "jpg|png|ppm", "jpg",
                             "format of the rendered frames (seqinfo.ini's imExt); ppm needs no OpenCV to write or read");
  auto& size = p.option("--image-size", "WxH", "1280x720", "frame size");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const std::string ext = "." + image_ext.str();
  if (ext != ".jpg" && ext != ".png" && ext != ".ppm")
    throw vss::UsageError("--image-ext must be jpg, png or ppm, got '" + image_ext.str() + "'");
  if (render && !vss::image_format_available(ext))
    throw vss::Error("--image-ext " + image_ext.str() + ": this vsskit build cannot write " + ext +
                     " frames (it has no OpenCV): use --image-ext ppm");
  std::smatch size_match;
  const std::string size_text = size.str();
  if (!std::regex_match(size_text, size_match, std::regex("([0-9]{2,5})x([0-9]{2,5})")))
    throw vss::UsageError("--image-size must be WxH (e.g. 640x360), got '" + size_text + "'");
  const long long n = count.as_int(1, vss::kMaxListEntry);
  std::string seqmap = "name\n";
  vss::Progress bar(n, "make-data", {.unit = "seq"});
  for (long long i = 0; i < n; ++i) {
    vss::track::SyntheticMotOptions o;
    char name[64];
    std::snprintf(name, sizeof(name), "%s-%04lld", prefix.str().c_str(), i + 1);
    o.name = name;
    o.seed = vss::track::synthetic_sequence_seed(static_cast<uint64_t>(seed.as_int()), i);
    o.frames = frames.as_int(1, vss::kMaxListEntry);
    o.objects = objects.as_int(1, 4096);
    o.width = std::stoll(size_match[1]);
    o.height = std::stoll(size_match[2]);
    // The default speed (10 px/frame at 720 lines) scaled with the frame, so motion looks alike.
    o.max_speed *= static_cast<double>(o.height) / 720;
    auto sequence = vss::track::make_synthetic_mot(o);
    sequence.info.im_ext = ext;
    vss::track::write_sequence(fs::path(out.str()) / o.name, sequence);
    if (render) {
      vss::track::RenderOptions r;
      r.seed = o.seed;
      vss::track::write_frames(fs::path(out.str()) / o.name, sequence, r);
    }
    seqmap += o.name + "\n";
    bar.advance();
  }
  bar.finish();
  vss::AtomicFile map_file(fs::path(out.str()) / "seqmap.txt");
  map_file.stream() << seqmap;
  map_file.commit();
  std::printf("wrote %lld sequence(s) and seqmap.txt to %s\n", n, out.str().c_str());
  return 0;
}

}  // namespace vss_track
