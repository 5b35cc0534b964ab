#include "core/video_writer.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/opencv_log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#ifdef VSS_HAVE_VIDEO
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>
#endif

namespace fs = std::filesystem;

namespace vss {

bool video_io_available() {
#ifdef VSS_HAVE_VIDEO
  return true;
#else
  return false;
#endif
}

struct VideoWriter::Impl {
  std::string path, temp;
  double fps = 0;
  int64_t height = -1, width = -1;
  bool closed = false;
  std::unique_ptr<TempFileRegistration> registration;  // removed on Ctrl-C (core/interrupt.h)
#ifdef VSS_HAVE_VIDEO
  cv::VideoWriter writer;
#endif
};

VideoWriter::VideoWriter(const std::string& path, double fps) : impl_(std::make_unique<Impl>()) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext != ".mp4" && ext != ".avi") throw_file_error(path, "video files must end in .mp4 or .avi");
  if (!(fps > 0)) throw_file_error(path, "frame rate must be positive, got " + std::to_string(fps));
#ifndef VSS_HAVE_VIDEO
  throw_file_error(path, "this vsskit build has no video support (needs OpenCV's videoio: libopencv-videoio-dev)");
#endif
  check_creatable(path);  // before OpenCV, whose backends print pages of noise on a bad path
  impl_->path = path;
  // The extension stays last: OpenCV picks the container from it.
  const fs::path p(path);
  std::string temp_name = ".";
  temp_name += p.stem().string();
  temp_name += ".partial";
  temp_name += ext;
  impl_->temp = (p.parent_path() / temp_name).string();
  impl_->fps = fps;
}

VideoWriter::~VideoWriter() {
  if (impl_ && !impl_->closed && impl_->height >= 0) {
#ifdef VSS_HAVE_VIDEO
    impl_->writer.release();
#endif
    std::remove(impl_->temp.c_str());
  }
}

void VideoWriter::write(const at::Tensor& frame) {
  if (frame.dim() != 3 || frame.size(2) != 3 || frame.scalar_type() != at::kByte)
    throw Error(impl_->path + ": video frames must be [H, W, 3] uint8, got " + shape_to_string(frame.sizes().vec()));
  if (impl_->closed) throw Error(impl_->path + ": write after close");
#ifdef VSS_HAVE_VIDEO
  if (impl_->height < 0) {
    impl_->height = frame.size(0);
    impl_->width = frame.size(1);
    const std::string ext = fs::path(impl_->temp).extension().string();
    const int codec = ext == ".avi" ? cv::VideoWriter::fourcc('M', 'J', 'P', 'G') : cv::VideoWriter::fourcc('m', 'p', '4', 'v');
    // FFmpeg when the build has it: the GStreamer backend that OpenCV tries first prints its own
    // warnings on stderr, which no log level of OpenCV's silences.
    const int backend = cv::videoio_registry::hasBackend(cv::CAP_FFMPEG) ? cv::CAP_FFMPEG : cv::CAP_ANY;
    silence_opencv_log();
    if (!impl_->writer.open(impl_->temp, backend, codec, impl_->fps,
                            cv::Size(static_cast<int>(impl_->width), static_cast<int>(impl_->height))))
      throw_file_error(impl_->path, "cannot open the video for writing (no encoder for " + ext + ")");
    impl_->registration = std::make_unique<TempFileRegistration>(impl_->temp);
  } else if (frame.size(0) != impl_->height || frame.size(1) != impl_->width) {
    throw Error(impl_->path + ": frame of " + shape_to_string(frame.sizes().vec()) + " after frames of " +
                std::to_string(impl_->height) + "x" + std::to_string(impl_->width));
  }
  const at::Tensor t = frame.to(at::kCPU).contiguous();
  cv::Mat rgb(static_cast<int>(impl_->height), static_cast<int>(impl_->width), CV_8UC3, t.data_ptr());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  impl_->writer.write(bgr);
#endif
}

void VideoWriter::close() {
  if (impl_->closed) return;
  if (impl_->height < 0) throw_file_error(impl_->path, "no frames to write");
#ifdef VSS_HAVE_VIDEO
  impl_->writer.release();
#endif
  std::error_code ec;
  fs::rename(impl_->temp, impl_->path, ec);
  if (ec) throw_file_error(impl_->path, "cannot move the finished video into place: " + ec.message());
  impl_->closed = true;
  impl_->registration.reset();
}

}  // namespace vss
