#pragma once
// Running a detector over the frames of a video-like sequence (vss-track --detector, vss-track
// detect, vss-detect --seq): frames are read in order, batched (`batch` per forward pass, bf16
// autocast when asked), and only their boxes are kept, so a long sequence is never held in
// memory. Every frame must have the first frame's size: a frame of another size is an error
// naming its file and both sizes, before any box is returned.
#include "engine/mixed_precision.h"
#include "heads/detect/centernet.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vss {

struct FrameDetections {
  std::vector<std::vector<detect::Detection>> frames;  // one list per frame, by descending score
  double decode_seconds = 0, detect_seconds = 0;        // reading images / the detector's forward + decoding
  int64_t width = 0, height = 0;
};

// Frames from `next` until it returns nothing (a video decoder); `describe(i)` names frame i
// (0-based) in errors. `on_frame` (optional) is called after each frame, e.g. for a progress bar.
FrameDetections detect_frames(detect::CenterNet& model, const std::function<std::optional<at::Tensor>()>& next,
                              const std::function<std::string(int64_t)>& describe, c10::Device device,
                              const Precision& precision, int64_t batch, const std::function<void()>& on_frame = {});

// The image files `frames`, in order.
FrameDetections detect_frames(detect::CenterNet& model, const std::vector<std::filesystem::path>& frames,
                              c10::Device device, const Precision& precision, int64_t batch,
                              const std::function<void()>& on_frame = {});

// The image files of a folder, sorted by name; an error naming the folder when it has none.
std::vector<std::filesystem::path> list_frames(const std::filesystem::path& dir);

}  // namespace vss
