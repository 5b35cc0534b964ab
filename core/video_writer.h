#pragma once
// Writes frames ([H, W, 3] uint8 RGB tensors, all of one size) to a video file (.mp4 with the
// 'mp4v' codec, .avi with MJPG), through OpenCV's videoio when the build has it; otherwise
// opening one is a one-line error saying so. The file is written under a temporary name and
// renamed by close(), so an interrupted run leaves no half-written video.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

namespace vss {

bool video_io_available();

class VideoWriter {
 public:
  VideoWriter(const std::string& path, double fps);
  ~VideoWriter();  // without close(): the temporary file is removed
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  void write(const at::Tensor& frame);
  void close();  // finishes the file and renames it into place

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vss
