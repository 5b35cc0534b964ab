// COCO instances + images as detection samples (see coco_image_dataset.h).
#include "datasets/coco_image_dataset.h"

#include "core/error.h"
#include "core/image_io.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace vss {

CocoImageDataset::CocoImageDataset(const std::filesystem::path& file, const std::filesystem::path& root)
    : instances_(coco::read_instances(file)), root_(root) {
  if (instances_.categories.empty()) throw_file_error(file.string(), "categories: none listed");
  std::vector<int64_t> ids;
  for (const auto& c : instances_.categories) ids.push_back(c.id);
  std::sort(ids.begin(), ids.end());
  for (size_t k = 0; k < ids.size(); ++k) class_of_[ids[k]] = static_cast<int64_t>(k);
  std::map<int64_t, size_t> image_index;
  for (size_t i = 0; i < instances_.images.size(); ++i) {
    image_index[instances_.images[i].id] = i;
    const auto path = root_ / instances_.images[i].file_name;
    if (!std::filesystem::exists(path))
      throw_file_error(path.string(), "missing image of " + file.string() + " images[" + std::to_string(i) + "]");
  }
  per_image_.resize(instances_.images.size());
  for (size_t a = 0; a < instances_.annotations.size(); ++a) {
    const auto& ann = instances_.annotations[a];
    if (!class_of_.count(ann.category_id))
      throw_file_error(file.string(), "annotations[" + std::to_string(a) + "].category_id: " +
                                          std::to_string(ann.category_id) + " is not in categories");
    if (ann.iscrowd || ann.w <= 0 || ann.h <= 0) continue;
    per_image_[image_index.at(ann.image_id)].push_back(a);
  }
}

DetSample CocoImageDataset::sample(int64_t index) const {
  const auto& im = instances_.images.at(static_cast<size_t>(index));
  const auto& anns = per_image_[static_cast<size_t>(index)];
  DetSample s;
  s.name = (root_ / im.file_name).string();
  s.image = read_image(s.name, ImageMode::kRgb);
  const auto n = static_cast<int64_t>(anns.size());
  s.boxes = at::empty({n, 4}, at::kFloat);
  s.classes = at::empty({n}, at::kLong);
  for (int64_t i = 0; i < n; ++i) {
    const auto& a = instances_.annotations[anns[static_cast<size_t>(i)]];
    s.boxes[i][0] = a.x, s.boxes[i][1] = a.y, s.boxes[i][2] = a.x + a.w, s.boxes[i][3] = a.y + a.h;
    s.classes[i] = class_of_.at(a.category_id);
  }
  return s;
}

}  // namespace vss
