#pragma once
// Reads a video file frame by frame ([H, W, 3] uint8 RGB tensors) through OpenCV's videoio when
// the build has it; otherwise opening one is a one-line error saying so. Frames are decoded one
// at a time, so a long video is never held. A file that cannot be opened is an error naming it;
// a truncated or partly corrupt file ends early: next() returns nothing, and truncated() says
// whether the container promised more frames than could be decoded.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace vss {

class VideoReader {
 public:
  explicit VideoReader(const std::string& path);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  // The next frame, or nothing at the end (or at the first frame that does not decode).
  std::optional<at::Tensor> next();
  double fps() const;                 // the container's frame rate (0 when unknown)
  int64_t frames_read() const;
  int64_t frames_promised() const;    // the container's frame count (0 when unknown)
  bool truncated() const;             // ended before frames_promised()
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vss
