#pragma once
// Reading many images where one bad file must not end a long run (training, evaluating a
// folder): an image that does not decode is skipped with one warning naming it and the
// reason, once per file, and counted so the run's summary can report it. Thread-safe: the
// training loader reads from several threads.
#include <ATen/core/Tensor.h>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vss {

class UnreadableImages {
 public:
  // The image as core/image_io's read_image(path, kRgb) ([H, W, 3] uint8), or nothing after
  // warning "skipping <path>: <reason>" (the first time this path fails).
  std::optional<at::Tensor> read_rgb(const std::string& path);
  int64_t count() const;
  std::vector<std::string> files() const;  // sorted

 private:
  mutable std::mutex mutex_;
  std::set<std::string> files_;
};

}  // namespace vss
