// Frame-by-frame video decoding through OpenCV (see video_reader.h).
#include "core/video_reader.h"

#include "core/error.h"
#include "core/opencv_log.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#ifdef VSS_HAVE_VIDEO
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>
#endif

namespace vss {

struct VideoReader::Impl {
  std::string path;
  int64_t read = 0, promised = 0;
  double fps = 0;
  bool ended = false;
#ifdef VSS_HAVE_VIDEO
  cv::VideoCapture capture;
#endif
};

VideoReader::VideoReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  if (!std::filesystem::is_regular_file(path)) throw_file_error(path, "no such video file");
  if (std::filesystem::file_size(path) == 0) throw_file_error(path, "empty file: no frames (an empty video)");
#ifdef VSS_HAVE_VIDEO
  // FFmpeg when the build has it: GStreamer prints its own warnings on stderr (see video_writer.cpp).
  const int backend = cv::videoio_registry::hasBackend(cv::CAP_FFMPEG) ? cv::CAP_FFMPEG : cv::CAP_ANY;
  silence_opencv_log();
  // FFmpeg's own messages ("moov atom not found") bypass OpenCV's log: OpenCV sets FFmpeg's
  // level from this variable when it first loads the backend (keeps a level the user set).
  setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0);
  if (!impl_->capture.open(path, backend) || !impl_->capture.isOpened())
    throw_file_error(path, "cannot open as a video (not a video, or a codec OpenCV lacks)");
  impl_->fps = impl_->capture.get(cv::CAP_PROP_FPS);
  const double count = impl_->capture.get(cv::CAP_PROP_FRAME_COUNT);
  impl_->promised = count > 0 ? static_cast<int64_t>(count) : 0;
#else
  throw_file_error(path, "cannot read videos: this build has no OpenCV videoio");
#endif
}

VideoReader::~VideoReader() = default;

std::optional<at::Tensor> VideoReader::next() {
  if (impl_->ended) return std::nullopt;
#ifdef VSS_HAVE_VIDEO
  cv::Mat bgr;
  if (!impl_->capture.read(bgr) || bgr.empty()) {
    impl_->ended = true;
    return std::nullopt;
  }
  cv::Mat rgb;
  if (bgr.channels() == 1) cv::cvtColor(bgr, rgb, cv::COLOR_GRAY2RGB);
  else cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  at::Tensor t = at::empty({rgb.rows, rgb.cols, 3}, at::kByte);
  for (int y = 0; y < rgb.rows; ++y)
    std::memcpy(t.data_ptr<uint8_t>() + static_cast<int64_t>(y) * rgb.cols * 3, rgb.ptr(y), static_cast<size_t>(rgb.cols) * 3);
  ++impl_->read;
  return t;
#else
  return std::nullopt;
#endif
}

double VideoReader::fps() const { return impl_->fps; }
int64_t VideoReader::frames_read() const { return impl_->read; }
int64_t VideoReader::frames_promised() const { return impl_->promised; }
bool VideoReader::truncated() const { return impl_->ended && impl_->promised > impl_->read; }
const std::string& VideoReader::path() const { return impl_->path; }

}  // namespace vss
