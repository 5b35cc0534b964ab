#pragma once
// An image bank: decoded images in one safetensors file (the role BasicSR's LMDB plays), so
// training reads its data without an image codec (the GPU machine has no OpenCV) and without
// decoding PNGs every step. Each tensor is one image, uint8 / uint16 [H, W, C] as
// core/image_io reads it unchanged; its name is the image's path relative to the packed
// folder without the extension ("HR/baby", "LR_bicubic/X2/babyx2"), so the bank holds the
// folder tree and a data config names folders inside it as it would on disk. 16-bit images
// are stored as I16 tensors holding the uint16 bits (core/safetensors has no U16). Metadata:
// {"format": "vss-image-bank", "version": "1"}.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vss {

// Packs every image file under `folder` (recursively). Errors name the file at fault (an
// unreadable image, two files with one name but different extensions, no images at all);
// the bank is written atomically, so a failed pack leaves no file. `on_image(done, total)`
// reports progress. Returns the number of images.
int64_t pack_image_bank(const std::filesystem::path& folder, const std::filesystem::path& file,
                        const std::function<void(int64_t, int64_t)>& on_image = nullptr);

class ImageBank {
 public:
  // Error naming the file if it is not a safetensors file with the bank's metadata.
  explicit ImageBank(const std::filesystem::path& file);
  // Names of the images directly inside `folder` ("" = the top level), sorted; the part
  // after the folder only (stems).
  std::vector<std::string> list(const std::string& folder) const;
  bool contains(const std::string& name) const;
  const at::Tensor& image(const std::string& name) const;  // error naming the bank if missing
  const std::filesystem::path& path() const { return path_; }
  int64_t size() const { return static_cast<int64_t>(images_.size()); }

 private:
  std::filesystem::path path_;
  std::map<std::string, at::Tensor> images_;
};

}  // namespace vss
