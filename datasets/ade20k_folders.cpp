#include "datasets/ade20k_folders.h"

#include "core/error.h"

#include <algorithm>

namespace vss {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

SegFileDataset open_ade20k(const Ade20kLayout& layout) {
  if (layout.img_suffix.empty() || layout.seg_map_suffix.empty())
    throw Error("ade20k data: img_suffix and seg_map_suffix must not be empty");
  const fs::path img_dir = layout.root / (layout.img_dir.empty() ? "images/" + layout.split : layout.img_dir);
  const fs::path ann_dir = layout.root / (layout.ann_dir.empty() ? "annotations/" + layout.split : layout.ann_dir);
  for (const auto& dir : {img_dir, ann_dir})
    if (!fs::is_directory(dir))
      throw_file_error(dir.string(), "no such folder (the mmseg / ADE20K layout is ROOT/images/<split> + "
                                     "ROOT/annotations/<split>)");
  std::vector<std::string> names;  // relative paths without the suffix
  for (const auto& e : fs::recursive_directory_iterator(img_dir, fs::directory_options::follow_directory_symlink)) {
    const std::string rel = fs::relative(e.path(), img_dir).string();
    if (e.is_regular_file() && ends_with(rel, layout.img_suffix))
      names.push_back(rel.substr(0, rel.size() - layout.img_suffix.size()));
  }
  if (names.empty()) throw_file_error(img_dir.string(), "holds no '*" + layout.img_suffix + "' images (img_suffix)");
  std::sort(names.begin(), names.end());
  std::vector<SegFilePair> pairs;
  for (const auto& name : names) {
    SegFilePair p{name, (img_dir / (name + layout.img_suffix)).string(), (ann_dir / (name + layout.seg_map_suffix)).string()};
    if (!fs::is_regular_file(p.label)) throw_file_error(p.image, "has no label map (expected " + p.label + ")");
    pairs.push_back(std::move(p));
  }
  return SegFileDataset(std::move(pairs), layout.labels);
}

}  // namespace vss
