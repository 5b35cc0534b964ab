// Batched detection over a sequence's frames (see frame_detection.h).
#include "engine/frame_detection.h"

#include "core/error.h"
#include "core/image_io.h"
#include "core/stopwatch.h"

#include <torch/torch.h>

#include <chrono>

namespace vss {

std::vector<std::filesystem::path> list_frames(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) throw_file_error(dir.string(), "not a folder of frames");
  std::vector<std::filesystem::path> out;
  for (const auto& f : list_images(dir.string())) out.emplace_back(f);
  if (out.empty()) throw_file_error(dir.string(), "no image files (the frames) in this folder");
  return out;
}

FrameDetections detect_frames(detect::CenterNet& model, const std::function<std::optional<at::Tensor>()>& next,
                              const std::function<std::string(int64_t)>& describe, c10::Device device,
                              const Precision& precision, int64_t batch, const std::function<void()>& on_frame) {
  if (batch < 1) throw Error("detect_frames: batch must be >= 1");
  FrameDetections out;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> group;
  auto flush = [&] {
    if (group.empty()) return;
    const auto start = std::chrono::steady_clock::now();
    {
      AutocastScope scope(device, precision.autocast);
      auto dets = model->detect(torch::stack(group).to(device));
      for (auto& d : dets) out.frames.push_back(std::move(d));
    }
    out.detect_seconds += seconds_since(start);
    for (size_t i = 0; i < group.size(); ++i)
      if (on_frame) on_frame();
    group.clear();
  };
  for (int64_t index = 0;; ++index) {
    const auto start = std::chrono::steady_clock::now();
    const std::optional<at::Tensor> image = next();
    out.decode_seconds += seconds_since(start);
    if (!image) break;
    if (out.width == 0) {
      out.height = image->size(0);
      out.width = image->size(1);
    } else if (image->size(0) != out.height || image->size(1) != out.width) {
      throw_file_error(describe(index), "frame of " + std::to_string(image->size(1)) + "x" +
                                            std::to_string(image->size(0)) + ", but the first frame (" + describe(0) +
                                            ") is " + std::to_string(out.width) + "x" + std::to_string(out.height) +
                                            ": all frames of a sequence must have one size");
    }
    group.push_back(image->permute({2, 0, 1}));
    if (static_cast<int64_t>(group.size()) == batch) flush();
  }
  flush();
  return out;
}

FrameDetections detect_frames(detect::CenterNet& model, const std::vector<std::filesystem::path>& frames,
                              c10::Device device, const Precision& precision, int64_t batch,
                              const std::function<void()>& on_frame) {
  size_t i = 0;
  return detect_frames(
      model,
      [&]() -> std::optional<at::Tensor> {
        if (i == frames.size()) return std::nullopt;
        return read_image(frames[i++].string(), ImageMode::kRgb);
      },
      [&](int64_t k) { return frames.at(static_cast<size_t>(k)).string(); }, device, precision, batch, on_frame);
}

}  // namespace vss
