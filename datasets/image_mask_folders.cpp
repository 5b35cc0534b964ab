#include "datasets/image_mask_folders.h"

#include "core/error.h"
#include "core/image_io.h"

#include <map>

namespace vss {

namespace fs = std::filesystem;

SegFileDataset open_image_mask_folders(const ImageMaskLayout& layout) {
  fs::path images = layout.root / layout.images_dir, masks = layout.root / layout.masks_dir;
  if (!layout.split.empty()) {
    images /= layout.split;
    masks /= layout.split;
  }
  for (const auto& dir : {images, masks})
    if (!fs::is_directory(dir))
      throw_file_error(dir.string(), "no such folder (the layout is ROOT/" + layout.images_dir + "[/<split>] + ROOT/" +
                                         layout.masks_dir + "[/<split>])");
  std::map<std::string, std::string> mask_by_name;  // image name -> mask path
  for (const auto& path : list_images(masks.string())) {
    std::string stem = fs::path(path).stem().string();
    const std::string& suffix = layout.mask_suffix;
    if (stem.size() < suffix.size() || stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    stem.resize(stem.size() - suffix.size());
    const auto [it, fresh] = mask_by_name.emplace(stem, path);
    if (!fresh) throw Error(masks.string() + ": two masks for image '" + stem + "': " + it->second + " and " + path);
  }
  std::vector<SegFilePair> pairs;
  std::map<std::string, std::string> image_by_name;
  for (const auto& path : list_images(images.string())) {
    const std::string name = fs::path(path).stem().string();
    const auto [it, fresh] = image_by_name.emplace(name, path);
    if (!fresh) throw Error(images.string() + ": two images named '" + name + "': " + it->second + " and " + path);
    const auto mask = mask_by_name.find(name);
    if (mask == mask_by_name.end())
      throw_file_error(path, "has no mask '" + name + layout.mask_suffix + ".<png|...>' in " + masks.string());
    pairs.push_back({name, path, mask->second});
  }
  return SegFileDataset(std::move(pairs), layout.labels);
}

}  // namespace vss
