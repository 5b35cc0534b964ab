// vss-bench track-pixels: the tracker end to end from image files, as vss-track --detector
// runs a sequence, through the same calls (engine/frame_tracking.h): frames read and decoded,
// detected in batches (bf16 autocast on CUDA), the boxes associated by ByteTrack (Kalman), the
// results file written. Each stage's seconds and frames/s end to end, as vss-track --json
// reports them. The detector: --weights FILE (vss-detect export), or --config YAML alone with
// its initial weights, for configs without trained ones (VMamba-T): speed hardly depends on the
// values, but an untrained heatmap gives few or no boxes, so boxes_per_frame says how much the
// association had to do. --warmup batches are detected first and not timed (CUDA start-up,
// kernel selection), which vss-track would count.
//   vss-bench track-pixels --config configs/detect/centernet_vmamba_tiny.yaml --seq DIR --device cuda --dtype bf16
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "datasets/mot_challenge.h"
#include "engine/device_options.h"
#include "engine/frame_tracking.h"
#include "engine/mixed_precision.h"
#include "heads/detect/detector_weights.h"
#include "heads/track/kalman_motion.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace vss::bench {
namespace {

int run_track_pixels_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench track-pixels",
              "Times the tracker end to end on a sequence's frames (decode, detect, associate, write), as "
              "vss-track --detector runs it.");
  auto& seq = p.option("--seq", "DIR", "", "a MOTChallenge sequence folder (seqinfo.ini, img1/)", true);
  auto& config = p.option("--config", "FILE", "",
                          "detector YAML (configs/detect/*.yaml); alone: its initial weights, with --weights: "
                          "the network the weights must match");
  auto& sets = p.multi("--set", "key=value", "override a key of --config (without --weights)");
  auto& weights = p.option("--weights", "FILE", "", "detector weights (vss-detect export)");
  auto& batch = p.option("--batch", "N", "8", "frames per detector forward pass");
  const DeviceOptions device_options(
      p, {.device_help = "where the detector runs",
          .dtype = "",
          .dtype_help = "the detector's precision (default: bf16 on CUDA, fp32 on CPU)"});
  auto& warmup = p.option("--warmup", "N", "1", "untimed detector batches on the first frames before the run");
  auto& out = p.option("--out", "DIR", "", "keep the results file in DIR (default: a temporary folder, removed)");
  auto& json = p.flag("--json", "print JSON instead of a line");
  if (int rc = p.parse(args); rc >= 0) return rc;
  if (!config && !weights) throw UsageError("give --config (initial weights) or --weights");
  if (weights && !sets.values.empty()) throw UsageError("--set changes --config's network, which --weights fixes");
  const auto [dev, precision] = device_options.read();
  const int64_t batch_size = batch.as_int(1, 4096);
  const int64_t warmup_batches = warmup.as_int(0, 1000);

  const track::Sequence sequence = track::open_sequence(seq.str());
  const std::vector<fs::path> frames = sequence.frame_paths();
  detect::CenterNet model{nullptr};
  if (weights) {
    model = detect::load_detector(weights.str(), config.str());
  } else {
    Config cfg = Config::load(config.str());
    for (const auto& s : sets.values) cfg.apply_override(s);
    torch::manual_seed(0);
    model = detect::make_centernet(cfg.has("model") ? cfg["model"] : cfg);
  }
  const track::ByteTrackOptions options;
  use_for_tracking(model, options);
  model->to(dev);
  model->eval();
  int64_t params = 0;
  for (const auto& t : model->parameters()) params += t.numel();

  const std::vector<fs::path> first(frames.begin(), frames.begin() + std::min<int64_t>(batch_size, frames.size()));
  for (int64_t i = 0; i < warmup_batches; ++i) detect_frames(model, first, dev, precision, batch_size);
  const PeakMemory memory(dev);
  memory.reset();

  // The pipeline, as vss-track runs one sequence.
  PipelineTiming timing;
  const FrameDetections detected = detect_frames(model, frames, dev, precision, batch_size);
  timing.add_detection(detected);
  const auto per_frame = tracker_detections(detected);
  track::ByteTracker tracker(options, track::make_kalman_motion(), sequence.info.frame_rate > 0 ? sequence.info.frame_rate : 30);
  const auto results = associate(tracker, options, per_frame, timing);
  const fs::path dir = out ? fs::path(out.str()) : fs::temp_directory_path() / ("vss-track-pixels-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path res_file = dir / (sequence.info.name + ".txt");
  write_tracks(res_file, results, timing);
  if (!out) remove_tree(dir);

  size_t boxes = 0;
  for (const auto& f : per_frame) boxes += f.size();
  std::set<int64_t> ids;
  for (const auto& b : results) ids.insert(b.id);
  const double n = static_cast<double>(frames.size());
  nlohmann::json j = timing.to_json();
  j.update({{"config", config.str()},
            {"overrides", sets.values},
            {"weights", weights.str()},
            {"seq", seq.str()},
            {"W", detected.width},
            {"H", detected.height},
            {"image_ext", sequence.info.im_ext},
            {"batch", batch_size},
            {"dtype", precision.name},
            {"device", dev.str()},
            {"params", params},
            {"warmup_batches", warmup_batches},
            {"boxes_per_frame", static_cast<double>(boxes) / n},
            {"tracked_boxes_per_frame", static_cast<double>(results.size()) / n},
            {"tracks", ids.size()},
            {"peak_mib", peak_json(memory.mib())}});
  if (json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("track-pixels %s %lldx%lld%s b%lld %s %s: %lld frames, %.1f boxes/frame, %zu tracks: %s (peak %s)\n",
                (weights ? weights.str() : config.str()).c_str(), static_cast<long long>(detected.width),
                static_cast<long long>(detected.height), sequence.info.im_ext.c_str(), static_cast<long long>(batch_size),
                precision.name.c_str(), dev.str().c_str(), static_cast<long long>(timing.frames),
                static_cast<double>(boxes) / n, ids.size(), timing.summary().c_str(), peak_text(memory.mib()).c_str());
  }
  return 0;
}

const BenchCommand kTrackPixels("track-pixels",
                                "the tracker end to end from frames (decode, detect, associate, write): frames/s",
                                run_track_pixels_bench);

}  // namespace
}  // namespace vss::bench
