// vss-track detect: caches a detector's boxes as a MOT det file.
#include "apps/track/commands.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "datasets/mot_challenge.h"
#include "datasets/mot_det_file.h"
#include "engine/device_options.h"
#include "engine/frame_detection.h"
#include "heads/detect/detector_weights.h"

#include <cstdio>
#include <filesystem>

namespace vss_track {

namespace fs = std::filesystem;

int run_detect(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-track detect",
                   "Runs a detector on a sequence's frames and writes its boxes in the MOT det format (det/det.txt's), "
                   "so tracking runs can reuse them with --det.");
  auto& seq = p.option("--seq", "DIR", "", "a sequence folder (seqinfo.ini, img1/)");
  auto& frames_dir = p.option("--frames", "DIR", "", "a folder of frames (sorted by name) instead of --seq");
  auto& out = p.option("-o", "FILE", "", "det file to write", true);
  auto& detector = p.option("--detector", "FILE", "", "detector weights (vss-detect export)", true);
  auto& detector_config = p.option("--detector-config", "FILE", "", "the detector's model YAML (default: the weights' own)");
  auto& thresh = p.option("--score-thresh", "S", "0.1", "keep boxes scoring at least S (ByteTrack's low threshold)");
  auto& batch = p.option("--batch", "N", "8", "frames per forward pass");
  const vss::DeviceOptions device_options(
      p, {.device_help = "where the detector runs", .dtype = "", .dtype_help = "precision (default: bf16 on CUDA, fp32 on CPU)"});
  if (int rc = p.parse(args); rc >= 0) return rc;
  if (seq && frames_dir) throw vss::UsageError("give --seq or --frames, not both");
  if (!seq && !frames_dir) throw vss::UsageError("nothing to detect on: give --seq DIR or --frames DIR");
  const double score_threshold = thresh.as_double();
  if (!(score_threshold >= 0 && score_threshold <= 1)) throw vss::UsageError("--score-thresh must be in [0, 1]");
  const auto [dev, precision] = device_options.read();
  std::vector<fs::path> frames;
  if (seq) {
    frames = vss::track::open_sequence(seq.str()).frame_paths();
  } else {
    frames = vss::list_frames(frames_dir.str());
  }
  {
    std::vector<fs::path> read(frames);
    read.emplace_back(detector.str());
    vss::refuse_overwriting_inputs({out.str()}, read, "pick another -o");
  }
  vss::detect::CenterNet model = vss::detect::load_detector(detector.str(), detector_config.str());
  auto test = model->options().test;
  test.score_threshold = score_threshold;
  model->set_test_options(test);
  model->to(dev);
  vss::Progress bar(static_cast<int64_t>(frames.size()), "detect", {.unit = "frame"});
  const auto d = vss::detect_frames(model, frames, dev, precision, batch.as_int(1, 4096), [&] { bar.advance(); });
  bar.finish();
  std::vector<vss::track::Box> boxes;
  for (size_t f = 0; f < d.frames.size(); ++f)
    for (const auto& b : d.frames[f])
      boxes.push_back({static_cast<int64_t>(f) + 1, -1, b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1, b.score});
  if (fs::path(out.str()).has_parent_path()) fs::create_directories(fs::path(out.str()).parent_path());
  vss::track::write_detections(out.str(), boxes);
  std::printf("%zu boxes on %zu frames (%.3f s reading, %.3f s detecting) -> %s\n", boxes.size(), frames.size(),
              d.decode_seconds, d.detect_seconds, out.str().c_str());
  return 0;
}

}  // namespace vss_track
