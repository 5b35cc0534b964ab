// vss-bench track: frames/s of the whole tracker (ByteTrack association + motion model) on a
// generated sequence with a given number of live objects, detections already in memory (no
// file parsing or image decoding is timed: that is what "tracker fps" means in ByteTrack's
// and MambaTrack's tables). The MTP runs batched over every track of the pool, one call per
// frame. Weights: --weights FILE (vss-track export-mtp), or --mtp-config YAML for random
// weights of any size (speed does not depend on the values; `{type: mtp}` is heads.md's
// full-size predictor).
#include "bench/bench_command.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "datasets/synthetic_mot.h"
#include "engine/device_options.h"
#include "heads/track/byte_tracker.h"
#include "heads/track/kalman_motion.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_motion.h"
#include "heads/track/mtp_weights.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace vss::bench {
namespace {

int run_track_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench track",
              "Times the whole tracker per frame (ByteTrack association + Kalman or MTP motion) on a generated "
              "sequence with N objects on stage.");
  auto& objects = p.option("--tracks", "N", "50", "objects on stage (about the number of live tracks)");
  auto& frames = p.option("--frames", "N", "300", "frames (the first 10% are an untimed warm-up)");
  auto& motion = p.option("--motion", "kalman|mtp", "mtp", "motion model");
  auto& weights = p.option("--weights", "FILE", "", "MTP weights (vss-track export-mtp)");
  auto& mtp_config = p.option("--mtp-config", "YAML", "", "MTP `model:` node for random weights, e.g. '{type: mtp}'");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cpu", "where the MTP runs");
  auto& seed = p.option("--seed", "S", "1", "sequence seed");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const std::string kind = motion.str();
  if (kind != "kalman" && kind != "mtp") {
    std::fprintf(stderr, "vss-bench track: --motion must be kalman or mtp, got '%s'\n", kind.c_str());
    return 2;
  }
  if (kind == "mtp" && weights.str().empty() == mtp_config.str().empty()) {
    std::fprintf(stderr, "vss-bench track: --motion mtp needs exactly one of --weights, --mtp-config\n");
    return 2;
  }
  const c10::Device dev = parse_device(device.str());
  require_device(dev, device.str());

  track::SyntheticMotOptions o;
  o.objects = objects.as_int();
  o.frames = frames.as_int();
  o.seed = static_cast<uint64_t>(seed.as_int());
  o.width = 1920;
  o.height = 1080;
  o.false_positives = 0.02 * static_cast<double>(o.objects);
  // Smaller dancers in bigger crowds, so about as many are visible (and tracked) as are on stage.
  o.size_scale = std::min(1.0, std::sqrt(10.0 / static_cast<double>(std::max<int64_t>(o.objects, 1))));
  if (o.objects < 1 || o.frames < 10) throw Error("--tracks must be >= 1 and --frames >= 10");
  const track::SyntheticMotSequence seq = track::make_synthetic_mot(o);
  std::vector<std::vector<track::Detection>> by_frame(static_cast<size_t>(o.frames));
  for (const auto& b : seq.det) by_frame[b.frame - 1].push_back({{b.x, b.y, b.w, b.h}, b.score});

  std::optional<track::MambaMotionPredictor> mtp;
  int64_t params = 0;
  if (kind == "mtp") {
    mtp = weights.str().empty()
              ? track::MambaMotionPredictor(track::mtp_options(Config::parse(mtp_config.str(), "--mtp-config")))
              : track::load_mtp(weights.str());
    for (const auto& t : (*mtp)->parameters()) params += t.numel();
  }
  torch::NoGradGuard no_grad;
  auto motion_model = kind == "kalman" ? track::make_kalman_motion()
                                       : track::make_mtp_motion(mtp->ptr(), static_cast<double>(o.width),
                                                                static_cast<double>(o.height), dev);
  track::ByteTracker tracker(track::ByteTrackOptions{}, std::move(motion_model), o.frame_rate);

  const size_t warm = by_frame.size() / 10;
  double seconds = 0, pool = 0;
  for (size_t f = 0; f < by_frame.size(); ++f) {
    const auto start = std::chrono::steady_clock::now();
    tracker.update(by_frame[f]);  // the MTP's outputs reach the CPU inside update: no extra sync
    if (f >= warm) {
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      pool += static_cast<double>(tracker.num_tracked() + tracker.num_lost());
    }
  }
  const double timed = static_cast<double>(by_frame.size() - warm);
  const double fps = timed / seconds, mean_pool = pool / timed;
  if (json) {
    nlohmann::json j{{"motion", kind},         {"weights", weights.str()},   {"mtp_config", mtp_config.str()},
                     {"params", params},       {"device", dev.str()},        {"objects", o.objects},
                     {"frames", timed},        {"mean_live_tracks", mean_pool}, {"fps", fps},
                     {"ms_per_frame", 1e3 / fps}, {"threads", torch::get_num_threads()}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("track %-6s %-5s %6.2fM params  %4lld objects (%.1f live tracks)  %9.1f fps  %7.3f ms/frame  %d threads\n",
                kind.c_str(), dev.str().c_str(), static_cast<double>(params) / 1e6,
                static_cast<long long>(o.objects), mean_pool, fps, 1e3 / fps, torch::get_num_threads());
  }
  return 0;
}

const BenchCommand kTrack("track", "whole-tracker frames/s (ByteTrack + Kalman or MTP) at N live tracks", run_track_bench);

}  // namespace
}  // namespace vss::bench
