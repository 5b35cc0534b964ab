#include "datasets/unreadable_images.h"

#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"

namespace vss {

std::optional<at::Tensor> UnreadableImages::read_rgb(const std::string& path) {
  try {
    return read_image(path, ImageMode::kRgb);
  } catch (const Error& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    // read_image's message already starts with the path.
    if (files_.insert(path).second) log::warn("skipping ", e.what());
    return std::nullopt;
  }
}

int64_t UnreadableImages::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(files_.size());
}

std::vector<std::string> UnreadableImages::files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {files_.begin(), files_.end()};
}

}  // namespace vss
