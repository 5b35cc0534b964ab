#include "datasets/image_bank.h"

#include "core/error.h"
#include "core/image_io.h"
#include "core/safetensors.h"

#include <algorithm>

namespace fs = std::filesystem;

namespace vss {

namespace {

constexpr const char* kFormat = "vss-image-bank";

}  // namespace

int64_t pack_image_bank(const fs::path& folder, const fs::path& file,
                        const std::function<void(int64_t, int64_t)>& on_image) {
  if (!fs::is_directory(folder)) throw_file_error(folder.string(), "not a directory");
  std::map<std::string, fs::path> found;  // name without extension -> file
  std::error_code ec;
  for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file() || !has_image_extension(it->path().string())) continue;
    const fs::path rel = fs::relative(it->path(), folder);
    const std::string name = (rel.parent_path() / rel.stem()).generic_string();
    const auto [pos, inserted] = found.emplace(name, it->path());
    if (!inserted)
      throw_file_error(it->path().string(), "has the same name as " + pos->second.string() +
                                                " apart from the extension; a bank keys images by name");
  }
  if (ec) throw_file_error(folder.string(), "cannot list: " + ec.message());
  if (found.empty()) throw_file_error(folder.string(), "holds no image files (.png .jpg .tif .bmp ...)");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  const auto total = static_cast<int64_t>(found.size());
  for (const auto& [name, path] : found) {
    at::Tensor image = read_image(path.string(), ImageMode::kUnchanged);
    // 16-bit images go in as I16 with the same bits (core/safetensors has no U16).
    if (image.scalar_type() == at::kUInt16) image = image.view(at::kShort);
    tensors.emplace_back(name, image);
    if (on_image) on_image(static_cast<int64_t>(tensors.size()), total);
  }
  write_safetensors(file, tensors, {{"format", kFormat}, {"version", "1"}});
  return total;
}

ImageBank::ImageBank(const fs::path& file) : path_(file) {
  SafetensorsFile f = read_safetensors(file);
  const auto format = f.metadata.find("format");
  if (format == f.metadata.end() || format->second != kFormat)
    throw_file_error(file.string(), "is not an image bank (no \"format\": \"vss-image-bank\" metadata; make one with "
                                    "vss-restore pack)");
  for (auto& [name, t] : f.tensors) {
    if (t.dim() != 3 || (t.scalar_type() != at::kByte && t.scalar_type() != at::kShort))
      throw_file_error(file.string(), "image '" + name + "' is not a U8 / I16 [H, W, C] tensor");
    images_.emplace(name, t.scalar_type() == at::kShort ? t.view(at::kUInt16) : std::move(t));
  }
}

std::vector<std::string> ImageBank::list(const std::string& folder) const {
  std::string prefix = folder;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (prefix == ".") prefix.clear();
  if (!prefix.empty()) prefix += '/';
  std::vector<std::string> out;
  for (auto it = images_.lower_bound(prefix); it != images_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    const std::string rest = it->first.substr(prefix.size());
    if (rest.find('/') == std::string::npos) out.push_back(rest);
  }
  return out;  // std::map order: sorted
}

bool ImageBank::contains(const std::string& name) const { return images_.count(name) > 0; }

const at::Tensor& ImageBank::image(const std::string& name) const {
  const auto it = images_.find(name);
  if (it == images_.end()) throw_file_error(path_.string(), "holds no image '" + name + "'");
  return it->second;
}

}  // namespace vss
