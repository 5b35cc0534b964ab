// vss-track (the main command): ByteTrack association with the Kalman or the Mamba motion
// predictor over det files or a detector's boxes.
#include "apps/track/commands.h"
#include "apps/track/scores.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "core/video_reader.h"
#include "core/video_writer.h"
#include "datasets/mot_challenge.h"
#include "engine/device_options.h"
#include "engine/frame_detection.h"
#include "engine/frame_tracking.h"
#include "heads/detect/detector_weights.h"
#include "heads/track/byte_tracker.h"
#include "heads/track/kalman_motion.h"
#include "heads/track/mtp_motion.h"
#include "heads/track/mtp_weights.h"
#include "heads/track/track_drawing.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>

namespace vss_track {

namespace fs = std::filesystem;

namespace {

struct TrackInput {
  std::string name;
  fs::path det, gt;             // gt empty: not scored
  vss::track::SeqInfo info;       // frame rate, length (0: from the detections), image size
  std::optional<vss::track::Sequence> sequence;  // the folder (frames for --video), if any
  std::vector<fs::path> frames;                // --frames: the images, in order
  fs::path video_in;                           // --input-video: decoded frame by frame
};

// Sequence folders named by --seq, or all under --data (those with seqinfo.ini, or the
// seqmap's), or a lone --det file.
std::vector<TrackInput> find_inputs(const std::vector<std::string>& seq_dirs, const std::string& data,
                                    const std::string& seqmap, const std::string& det, const std::string& gt,
                                    double frame_rate, const std::string& image_size, const std::string& frames = "",
                                    bool detector = false, const std::string& input_video = "") {
  const int sources = !seq_dirs.empty() + !data.empty() + !frames.empty() + !input_video.empty();
  if (sources > 1) throw vss::Error("give one of --seq, --data, --frames and --input-video");
  if (!input_video.empty()) {
    if (!detector) throw vss::Error("--input-video needs --detector WEIGHTS (the boxes come from the detector)");
    if (!det.empty()) throw vss::Error("give --input-video or --det, not both");
    TrackInput in;
    in.video_in = input_video;
    in.name = fs::path(input_video).stem().string();
    in.info.name = in.name;
    vss::VideoReader reader(input_video);
    in.info.frame_rate = reader.fps() > 0 ? reader.fps() : frame_rate;
    const auto first = reader.next();
    if (!first) vss::throw_file_error(input_video, "no frames (an empty or undecodable video)");
    in.info.im_height = first->size(0);
    in.info.im_width = first->size(1);
    if (gt == "auto") throw vss::Error("--gt auto needs --seq or --data (a video has no gt/gt.txt): give --gt FILE");
    if (!gt.empty()) in.gt = gt;
    if (!in.gt.empty() && !fs::exists(in.gt)) vss::throw_file_error(in.gt.string(), "--gt: no such file");
    return {in};
  }
  if (!frames.empty()) {
    if (!detector) throw vss::Error("--frames needs --detector WEIGHTS (the boxes come from the detector)");
    if (!det.empty()) throw vss::Error("give --frames or --det, not both");
    TrackInput in;
    in.frames = vss::list_frames(frames);
    // Named after the folder, or after its sequence folder for <seq>/img1 (trailing '/' allowed).
    fs::path folder = fs::absolute(frames).lexically_normal();
    if (folder.filename().empty()) folder = folder.parent_path();
    in.name = folder.filename().string();
    if (in.name == "img1" && folder.has_parent_path()) in.name = folder.parent_path().filename().string();
    in.info.name = in.name;
    in.info.frame_rate = frame_rate;
    in.info.seq_length = static_cast<int64_t>(in.frames.size());
    const at::Tensor first = vss::read_image(in.frames.front().string(), vss::ImageMode::kRgb);
    in.info.im_height = first.size(0);
    in.info.im_width = first.size(1);
    if (gt == "auto") throw vss::Error("--gt auto needs --seq or --data (a frames folder has no gt/gt.txt): give --gt FILE");
    if (!gt.empty()) in.gt = gt;
    if (!in.gt.empty() && !fs::exists(in.gt)) vss::throw_file_error(in.gt.string(), "--gt: no such file");
    return {in};
  }
  if (detector && !det.empty()) throw vss::Error("give --detector or --det, not both");
  std::vector<TrackInput> inputs;
  if (sources == 0) {
    if (det.empty()) throw vss::Error("nothing to track: give --seq DIR, --data DIR or --det FILE");
    TrackInput in{fs::path(det).stem().string(), det, {}, {}, std::nullopt};
    in.info.name = in.name;
    in.info.frame_rate = frame_rate;
    if (!image_size.empty()) {
      std::smatch m;
      const std::string text = image_size;
      if (!std::regex_match(text, m, std::regex("([0-9]{1,6})x([0-9]{1,6})")))
        throw vss::Error("--image-size must be WxH (e.g. 1920x1080), got '" + image_size + "'");
      in.info.im_width = std::stoll(m[1]);
      in.info.im_height = std::stoll(m[2]);
    }
    if (!gt.empty() && gt != "auto") in.gt = gt;
    return {in};
  }
  std::vector<fs::path> dirs(seq_dirs.begin(), seq_dirs.end());
  if (!data.empty()) {
    if (!fs::is_directory(data)) vss::throw_file_error(data, "--data: no such directory");
    if (!seqmap.empty()) {
      for (const auto& name : vss::track::read_seqmap(seqmap)) dirs.push_back(fs::path(data) / name);
    } else {
      for (const auto& e : fs::directory_iterator(data))
        if (fs::exists(e.path() / "seqinfo.ini")) dirs.push_back(e.path());
      std::sort(dirs.begin(), dirs.end());
      if (dirs.empty()) vss::throw_file_error(data, "no <seq>/seqinfo.ini under --data");
    }
  }
  if (!det.empty() && dirs.size() != 1) throw vss::Error("--det replaces the det file of a single sequence only");
  for (const auto& dir : dirs) {
    const auto seq = vss::track::open_sequence(dir);
    TrackInput in{seq.dir.filename().string(), det.empty() ? seq.det_path() : fs::path(det), {}, seq.info, seq};
    if (in.info.frame_rate <= 0) in.info.frame_rate = frame_rate;
    if (detector) {  // boxes from the frames, not from det/det.txt
      in.det.clear();
      in.frames = seq.frame_paths();
    } else if (!fs::exists(in.det)) {
      vss::throw_file_error(in.det.string(), "missing detections of sequence " + in.name);
    }
    if (gt == "auto") in.gt = seq.gt_path();
    else if (!gt.empty()) in.gt = fs::is_directory(gt) ? fs::path(gt) / in.name / "gt" / "gt.txt" : fs::path(gt);
    if (!in.gt.empty() && !fs::exists(in.gt)) vss::throw_file_error(in.gt.string(), "missing gt of sequence " + in.name);
    inputs.push_back(std::move(in));
  }
  return inputs;
}

// Detections grouped by frame (index 0 = frame 1); the length is seqLength, or the last
// frame of the file when there is no seqinfo.ini.
std::vector<std::vector<vss::track::Detection>> read_detections(const TrackInput& in) {
  const auto file = vss::track::read_boxes(in.det, vss::track::FileKind::Detections, in.info.seq_length);
  int64_t length = in.info.seq_length;
  for (const auto& b : file.boxes) length = std::max(length, b.frame);
  std::vector<std::vector<vss::track::Detection>> frames(static_cast<size_t>(length));
  for (const auto& b : file.boxes) frames[b.frame - 1].push_back({{b.x, b.y, b.w, b.h}, b.score});
  return frames;
}

// The MTP normalises boxes by the image size: seqinfo.ini's, or --image-size for a bare det file.
void check_image_size(const TrackInput& in) {
  if (in.info.im_width >= 1 && in.info.im_height >= 1) return;
  if (in.sequence)
    vss::throw_file_error(in.sequence->seqinfo_path().string(),
                          "--motion mtp needs the image size: imWidth and imHeight are missing or not positive");
  vss::throw_file_error(in.det.string(), "--motion mtp needs the image size, which a det file alone lacks: pass --image-size WxH");
}

struct MotionChoice {
  std::string type = "kalman";
  std::optional<vss::track::MambaMotionPredictor> mtp;
  c10::Device device = c10::Device("cpu");
};

std::unique_ptr<vss::track::MotionModel> make_motion(const MotionChoice& m, const TrackInput& in) {
  if (m.type == "kalman") return vss::track::make_kalman_motion();
  return vss::track::make_mtp_motion(m.mtp->ptr(), static_cast<double>(in.info.im_width),
                                     static_cast<double>(in.info.im_height), m.device);
}

// --video: one file for a single sequence (PATH ending in .mp4/.avi), else PATH/<seq>.mp4.
fs::path video_path(const std::string& path, const std::string& seq, size_t sequences) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".mp4" || ext == ".avi") {
    if (sequences > 1) throw vss::Error("--video " + path + ": several sequences need a folder, not one file");
    return path;
  }
  return fs::path(path) / (seq + ".mp4");
}

// The frame a visualisation draws on: the sequence's image when it has one, else a dark canvas
// of the sequence's size (generated data and bare det files have no images).
at::Tensor video_canvas(const TrackInput& in, int64_t frame) {
  if (!in.frames.empty()) return vss::read_image(in.frames[static_cast<size_t>(frame - 1)].string(), vss::ImageMode::kRgb);
  if (in.sequence) {
    const fs::path image = in.sequence->image_path(frame);
    if (fs::exists(image)) return vss::read_image(image.string(), vss::ImageMode::kRgb);
  }
  if (in.info.im_width < 1 || in.info.im_height < 1)
    throw vss::Error("--video: sequence " + in.name + " has no images and no size (seqinfo imWidth/imHeight or --image-size)");
  return torch::full({in.info.im_height, in.info.im_width, 3}, 40, torch::kUInt8);
}

}  // namespace

int run_track(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-track",
                   "Tracks objects through MOTChallenge-style sequences: ByteTrack association with the Kalman or "
                   "the Mamba motion predictor (MTP). Writes OUT/<seq>.txt (10 columns); with --gt prints HOTA, "
                   "MOTA, IDF1, ... as TrackEval. Other commands: eval, make-data, export-mtp (see <command> --help).");
  auto& seqs = p.multi("--seq", "DIR", "a sequence folder (seqinfo.ini, det/det.txt)");
  auto& data = p.option("--data", "DIR", "", "a split: every <seq>/seqinfo.ini under DIR");
  auto& seqmap = p.option("--seqmap", "FILE", "", "with --data: the sequences to run (first line 'name')");
  auto& det = p.option("--det", "FILE", "", "detections (10 columns); alone, or instead of a sequence's det/det.txt");
  auto& frame_rate = p.option("--frame-rate", "FPS", "30", "frame rate when seqinfo.ini has none (--det alone)");
  auto& image_size = p.option("--image-size", "WxH", "", "image size for --det alone (the MTP normalises boxes by it)");
  auto& config = p.option("--config", "FILE", "", "YAML with tracker: (ByteTrack thresholds), motion: {type, weights} and detector: {weights, config}");
  auto& sets = p.multi("--set", "key=value", "override a config key, e.g. tracker.match_thresh=0.9");
  auto& motion = p.option("--motion", "kalman|mtp", "", "motion model (default: the config's, else kalman)");
  auto& weights = p.option("--weights", "FILE", "", "MTP weights (vss-track export-mtp); default: the config's");
  auto& out = p.option("--out", "DIR", "", "results folder: <seq>.txt per sequence", true);
  auto& gt = p.option("--gt", "auto|FILE|DIR", "",
                      "score the results: auto = each sequence's gt/gt.txt, or a gt file, or a folder of <seq>/gt/gt.txt");
  auto& no_preproc = p.flag("--no-preproc", "score without MOT17/20 preprocessing (as eval --no-preproc)");
  const vss::DeviceOptions device_options(p, {.device_help = "where the MTP and the detector run", .dtype = "",
                                              .dtype_help = "the detector's precision (default: bf16 on CUDA, fp32 on CPU)"});
  auto& video = p.option("--video", "FILE|DIR", "",
                         "also draw the tracks (ids as colours, trails) on the frames into FILE.mp4, or DIR/<seq>.mp4");
  auto& frames_dir = p.option("--frames", "DIR", "", "a folder of frames (sorted by name) as one sequence; needs --detector");
  auto& input_video = p.option("--input-video", "FILE", "",
                               "a video file as one sequence, decoded frame by frame; needs --detector");
  auto& detector = p.option("--detector", "FILE", "",
                            "detector weights (vss-detect export): detect on each frame instead of reading det/det.txt");
  auto& detector_config = p.option("--detector-config", "FILE", "", "the detector's model YAML (default: the weights' own)");
  auto& batch = p.option("--batch", "N", "8", "frames per detector forward pass");
  auto& json = p.flag("--json", "print JSON (fractions) instead of a table (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;

  MotionChoice choice;
  vss::Config cfg = config ? vss::Config::load(config.str()) : vss::Config::parse("{}", "<defaults>");
  for (const auto& s : sets.values) cfg.apply_override(s);
  cfg.check_keys({"tracker", "motion", "detector"});
  const auto options = cfg.has("tracker") ? vss::track::byte_track_options(cfg["tracker"]) : vss::track::ByteTrackOptions{};
  std::string weights_path = weights.str();
  if (cfg.has("motion")) {
    const vss::Config m = cfg["motion"];
    m.check_keys({"type", "weights"});
    choice.type = m.get_or<std::string>("type", choice.type);
    if (weights_path.empty() && m.has("weights")) {
      // Relative to the config file, as _base_ paths are.
      const fs::path w = m.get<std::string>("weights");
      weights_path = (w.is_relative() ? fs::path(m.file()).parent_path() / w : w).string();
    }
  }
  if (motion) choice.type = motion.str();
  // The detector: --detector / --detector-config, else the config's detector: {weights, config}
  // (paths relative to the config file, as motion.weights).
  std::string detector_weights = detector.str(), detector_yaml = detector_config.str();
  if (cfg.has("detector")) {
    const vss::Config d = cfg["detector"];
    d.check_keys({"weights", "config"});
    auto near_config = [&](const std::string& key) {
      const fs::path f = d.get<std::string>(key);
      return (f.is_relative() ? fs::path(d.file()).parent_path() / f : f).string();
    };
    if (detector_weights.empty() && d.has("weights")) detector_weights = near_config("weights");
    if (detector_yaml.empty() && d.has("config")) detector_yaml = near_config("config");
  }
  const bool detector_on = !detector_weights.empty();
  if (!detector_on && (detector_config || device_options.dtype()))
    throw vss::UsageError(std::string(detector_config ? "--detector-config" : "--dtype") + " needs --detector");
  try {
    if (choice.type != "kalman" && choice.type != "mtp")
      throw vss::Error("--motion must be kalman or mtp, got '" + choice.type + "'");
    if (choice.type == "mtp" && weights_path.empty()) throw vss::Error("--motion mtp needs --weights FILE");
  } catch (const vss::Error& e) {
    std::fprintf(stderr, "vss-track: %s\ntry 'vss-track --help'\n", e.what());
    return 2;
  }
  const vss::DeviceChoice run_on = device_options.read();
  choice.device = run_on.device;
  if (choice.type == "mtp") choice.mtp = vss::track::load_mtp(weights_path);

  const auto inputs = find_inputs(seqs.values, data.str(), seqmap.str(), det.str(), gt.str(), frame_rate.as_double(),
                                  image_size.str(), frames_dir.str(), detector_on, input_video.str());
  std::optional<vss::detect::CenterNet> detector_model;
  if (detector_on) {
    detector_model = vss::detect::load_detector(detector_weights, detector_yaml);
    vss::use_for_tracking(*detector_model, options);
    (*detector_model)->to(choice.device);
  }
  // Everything is checked before the first file or folder is made.
  if (choice.type == "mtp")
    for (const auto& in : inputs) check_image_size(in);
  std::vector<std::vector<std::vector<vss::track::Detection>>> detections;
  int64_t total_frames = 0;
  vss::PipelineTiming timing;
  for (const auto& in : inputs) {
    if (detector_on) continue;
    detections.push_back(read_detections(in));
    total_frames += static_cast<int64_t>(detections.back().size());
  }
  std::vector<fs::path> videos;
  if (video)
    for (const auto& in : inputs) videos.push_back(video_path(video.str(), in.name, inputs.size()));
  {
    std::vector<fs::path> planned(videos), read;
    for (const auto& in : inputs) {
      planned.push_back(fs::path(out.str()) / (in.name + ".txt"));
      read.insert(read.end(), {in.det, in.gt});
      read.insert(read.end(), in.frames.begin(), in.frames.end());
      if (!in.video_in.empty()) read.push_back(in.video_in);
      if (in.sequence) read.push_back(in.sequence->seqinfo_path());
    }
    vss::refuse_overwriting_inputs(planned, read, "pick another --out or --video");
  }
  for (const auto& file : videos) vss::check_creatable(file);
  std::vector<TrackInput> decoded;  // inputs with the frame count of their video once decoded
  if (detector_on) {  // every frame is detected (and checked) before the first result file is made
    int64_t frames = 0;
    for (const auto& in : inputs)
      frames += in.video_in.empty() ? static_cast<int64_t>(in.frames.size())
                                    : std::max<int64_t>(1, vss::VideoReader(in.video_in.string()).frames_promised());
    vss::Progress detect_bar(frames, "detect", {.unit = "frame"});
    for (const auto& in : inputs) {
      vss::detect::CenterNet& model = *detector_model;
      const int64_t batch_size = batch.as_int(1, 4096);
      vss::FrameDetections d;
      if (!in.video_in.empty()) {
        vss::VideoReader reader(in.video_in.string());
        const std::string name = in.video_in.string();
        d = vss::detect_frames(
            model, [&] { return reader.next(); }, [&](int64_t i) { return name + " (frame " + std::to_string(i + 1) + ")"; },
            choice.device, run_on.precision, batch_size, [&] { detect_bar.advance(); });
        if (reader.truncated())
          std::fprintf(stderr, "vss-track: warning: %s: frame %lld does not decode (the file says %lld frames): "
                               "tracking frames 1-%lld\n",
                       name.c_str(), static_cast<long long>(reader.frames_read() + 1),
                       static_cast<long long>(reader.frames_promised()), static_cast<long long>(reader.frames_read()));
        if (d.frames.empty()) vss::throw_file_error(name, "no frames (an empty or undecodable video)");
      } else {
        d = vss::detect_frames(model, in.frames, choice.device, run_on.precision, batch_size, [&] { detect_bar.advance(); });
      }
      timing.add_detection(d);
      auto per_frame = vss::tracker_detections(d);
      total_frames += static_cast<int64_t>(per_frame.size());
      decoded.push_back(in);
      decoded.back().info.seq_length = static_cast<int64_t>(per_frame.size());
      detections.push_back(std::move(per_frame));
    }
    detect_bar.finish();
  }
  fs::create_directories(out.str());

  vss::Progress bar(total_frames, "track", {.unit = "frame"});
  vss::track::MotCounts combined;
  nlohmann::json report = {{"motion", choice.type}, {"sequences", nlohmann::json::object()}};
  bool scored = false;
  std::vector<std::pair<std::string, vss::track::MotMetrics>> rows;
  for (size_t s = 0; s < inputs.size(); ++s) {
    const TrackInput& in = detector_on ? decoded[s] : inputs[s];
    vss::track::ByteTracker tracker(options, make_motion(choice, in), in.info.frame_rate);
    std::optional<vss::VideoWriter> writer;
    vss::track::TrackDrawer drawer;
    if (video) {
      if (videos[s].has_parent_path()) fs::create_directories(videos[s].parent_path());
      writer.emplace(videos[s].string(), in.info.frame_rate);
    }
    std::optional<vss::VideoReader> replay;  // --input-video drawn on: decoded again, in step
    if (writer && !in.video_in.empty()) replay.emplace(in.video_in.string());
    const double associated_before = timing.associate_seconds;
    const auto results = vss::associate(tracker, options, detections[s], timing,
                                        [&](int64_t f, const vss::KeptTracks& kept) {
      if (writer) {  // frames are read, drawn and written one at a time: the video is never held
        std::optional<at::Tensor> decoded_frame;
        if (replay && !(decoded_frame = replay->next()))
          vss::throw_file_error(in.video_in.string(), "frame " + std::to_string(f + 1) + " no longer decodes");
        at::Tensor frame = (replay ? *decoded_frame : video_canvas(in, f + 1)).contiguous();
        drawer.draw(frame, kept);
        writer->write(frame);
      }
      bar.advance();
    });
    if (writer) writer->close();
    const fs::path res_file = fs::path(out.str()) / (in.name + ".txt");
    vss::write_tracks(res_file, results, timing);
    std::set<int64_t> ids;
    for (const auto& b : results) ids.insert(b.id);
    const double seconds = timing.associate_seconds - associated_before;
    const double frames = static_cast<double>(detections[s].size());
    nlohmann::json entry = {{"frames", detections[s].size()}, {"tracks", ids.size()}, {"boxes", results.size()},
                            {"fps", seconds > 0 ? frames / seconds : 0.0}, {"results", res_file.string()}};
    if (!in.gt.empty()) {
      const auto counts = score_sequence(in.gt, res_file, in.info.seq_length, no_preproc);
      combined += counts;
      scored = true;
      const auto m = vss::track::summarize(counts);
      entry["metrics"] = to_json(m);
      rows.emplace_back(in.name, m);
    }
    report["sequences"][in.name] = entry;
  }
  bar.finish();
  const double total_seconds = timing.associate_seconds;
  const double fps = total_seconds > 0 ? static_cast<double>(total_frames) / total_seconds : 0.0;
  report["fps"] = fps;
  if (detector_on) {  // end to end: reading frames, the detector, association, the results files
    report["detector"] = timing.to_json();
    report["detector"]["weights"] = detector_weights;
  }
  if (scored) report["combined"] = to_json(vss::track::summarize(combined));
  if (json) {
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  if (scored) {
    print_header();
    for (const auto& [name, m] : rows) print_row(name, m);
    print_row("COMBINED", vss::track::summarize(combined));
  }
  if (detector_on) std::printf("detector: %s\n", timing.summary().c_str());
  std::printf("%s: %lld frames of %zu sequence(s) in %.3f s of association = %.0f frames/s; results in %s\n",
              choice.type.c_str(), static_cast<long long>(total_frames), inputs.size(), total_seconds, fps,
              out.str().c_str());
  return 0;
}

}  // namespace vss_track
