#include "datasets/second_folder.h"

#include "core/error.h"
#include "core/image_io.h"
#include "core/interrupt.h"
#include "datasets/change_folder.h"

#include <ATen/ATen.h>

namespace vss::change {
namespace {

namespace fs = std::filesystem;

std::string pixel_text(int64_t row, int64_t col) { return "row " + std::to_string(row) + ", column " + std::to_string(col); }

// [H, W, C] as read: alpha dropped, 8 bits required (labels are never rescaled).
at::Tensor label_channels(at::Tensor image, const std::string& path) {
  if (image.dim() == 2) image = image.unsqueeze(-1);
  if (image.scalar_type() != at::kByte) throw_file_error(path, "is not an 8-bit image (a label map must be)");
  const int64_t C = image.size(-1);
  if (C == 2 || C == 4) image = image.narrow(-1, 0, C - 1);
  return image;
}

at::Tensor indices_from_colours(const at::Tensor& rgb, const std::string& path) {
  const auto& palette = second_palette();
  const auto code = rgb.to(at::kInt);
  const auto packed = code.select(-1, 0) * 65536 + code.select(-1, 1) * 256 + code.select(-1, 2);
  auto out = at::full(packed.sizes(), 255, at::kByte);
  for (size_t k = 0; k < palette.size(); ++k) {
    const int colour = palette[k][0] * 65536 + palette[k][1] * 256 + palette[k][2];
    out.masked_fill_(packed.eq(colour), static_cast<int64_t>(k));
  }
  const auto unknown = out.eq(255);
  if (unknown.any().item<bool>()) {
    const auto at = at::nonzero(unknown)[0];
    const int64_t row = at[0].item<int64_t>(), col = at[1].item<int64_t>();
    throw_file_error(path, "colour (" + std::to_string(code[row][col][0].item<int>()) + "," +
                               std::to_string(code[row][col][1].item<int>()) + "," +
                               std::to_string(code[row][col][2].item<int>()) + ") at " + pixel_text(row, col) +
                               " is not in the SECOND colour table");
  }
  return out;
}

std::string hw_text(const at::Tensor& hw) { return std::to_string(hw.size(-2)) + "x" + std::to_string(hw.size(-1)); }

}  // namespace

const std::array<std::array<uint8_t, 3>, kSecondClasses>& second_palette() {
  static const std::array<std::array<uint8_t, 3>, kSecondClasses> palette{{{255, 255, 255},
                                                                           {0, 0, 255},
                                                                           {128, 128, 128},
                                                                           {0, 128, 0},
                                                                           {0, 255, 0},
                                                                           {128, 0, 0},
                                                                           {255, 0, 0}}};
  return palette;
}

SemanticLabelFolders semantic_label_folders(const fs::path& dir) {
  SemanticLabelFolders f;
  if (fs::is_directory(dir / "label1") || fs::is_directory(dir / "label2")) {
    f = {"second", dir / "label1", dir / "label2", {}};
  } else if (fs::is_directory(dir / "GT_T1") || fs::is_directory(dir / "GT_T2")) {
    f = {"changemamba", dir / "GT_T1", dir / "GT_T2", {}};
    if (fs::is_directory(dir / "GT_CD")) f.change = dir / "GT_CD";
  } else {
    throw_file_error(dir.string(), "holds neither label1/ + label2/ (SECOND) nor GT_T1/ + GT_T2/ (ChangeMamba)");
  }
  for (const auto& sub : {f.label1, f.label2})
    if (!fs::is_directory(sub)) throw_file_error(sub.string(), "no such folder (its partner exists)");
  return f;
}

SemanticChangeSplit find_semantic_change_split(const fs::path& split_dir, const fs::path& list) {
  const SemanticLabelFolders labels = semantic_label_folders(split_dir);
  const bool second = labels.layout == "second";
  const fs::path date1 = split_dir / (second ? "im1" : "T1"), date2 = split_dir / (second ? "im2" : "T2");
  std::vector<FileRole> roles;
  for (const auto& dir : {date1, date2, labels.label1, labels.label2}) {
    if (!fs::is_directory(dir)) throw_file_error(dir.string(), "no such folder (the " + labels.layout + " layout)");
    roles.push_back({dir.filename().string(), list_images(dir.string())});
  }
  if (!labels.change.empty()) roles.push_back({"GT_CD", list_images(labels.change.string())});
  FileMatching m = match_by_name(roles);
  std::string role_names;
  for (const auto& r : roles) role_names += (role_names.empty() ? "" : ", ") + r.role;
  if (!list.empty()) m = select_listed(m, list.string(), role_names);
  return {labels.layout, std::move(m.matched), std::move(m.skipped)};
}

at::Tensor read_semantic_label(const std::string& path, int64_t classes) {
  const at::Tensor image = label_channels(read_image(path, ImageMode::kUnchanged), path);
  const int64_t C = image.size(-1);
  if (C == 3) {
    if (classes != kSecondClasses)
      throw_file_error(path, "is a colour label, but the SECOND colour table has 7 classes, not " + std::to_string(classes));
    return indices_from_colours(image, path);
  }
  const at::Tensor indices = image.select(-1, 0);
  const auto bad = indices.to(at::kInt).ge(classes);
  if (bad.any().item<bool>()) {
    const auto at = at::nonzero(bad)[0];
    const int64_t row = at[0].item<int64_t>(), col = at[1].item<int64_t>();
    throw_file_error(path, "class index " + std::to_string(indices[row][col].item<int>()) + " at " + pixel_text(row, col) +
                               " (expected 0.." + std::to_string(classes - 1) + ")");
  }
  return indices.contiguous();
}

SemanticChangePair read_semantic_change_pair(const MatchedFiles& files, int64_t classes) {
  const auto& p = files.paths;
  if (p.size() != 4 && p.size() != 5)
    throw Error("read_semantic_change_pair: expected the files date 1, date 2, label1, label2 [, change] of '" +
                files.name + "'");
  SemanticChangePair out;
  std::tie(out.a, out.b) = read_dates(p[0], p[1]);
  out.label1 = read_semantic_label(p[2], classes);
  out.label2 = read_semantic_label(p[3], classes);
  out.change = p.size() == 5 ? read_change_mask(p[4]) : out.label1.ne(0).to(at::kByte);
  const std::vector<std::pair<const at::Tensor*, size_t>> maps{{&out.label1, 2}, {&out.label2, 3}, {&out.change, 4}};
  for (const auto& [map, index] : maps)
    if (map->size(0) != out.a.size(1) || map->size(1) != out.a.size(2))
      throw Error("pair sizes differ: " + p[0] + " is " + hw_text(out.a) + ", " + p[index] + " is " + hw_text(*map));
  return out;
}

at::Tensor colour_semantic_label(const at::Tensor& indices) {
  if (indices.dim() != 2) throw_shape_error("land-cover map", {-1, -1}, indices.sizes().vec());
  const auto idx = indices.to(at::kCPU, at::kLong);
  const auto bad = idx.lt(0).logical_or(idx.ge(kSecondClasses));
  if (bad.any().item<bool>()) {
    const auto at = at::nonzero(bad)[0];
    throw Error("land-cover map: class " + std::to_string(idx[at[0]][at[1]].item<int64_t>()) + " at " +
                pixel_text(at[0].item<int64_t>(), at[1].item<int64_t>()) + " has no SECOND colour (expected 0..6)");
  }
  auto table = at::empty({kSecondClasses, 3}, at::kByte);
  for (int64_t k = 0; k < kSecondClasses; ++k)
    for (int64_t c = 0; c < 3; ++c) table[k][c] = second_palette()[k][c];
  return table.index_select(0, idx.flatten()).view({idx.size(0), idx.size(1), 3}).contiguous();
}

void write_semantic_change_pair(const fs::path& split_dir, const std::string& name, const SemanticChangePair& pair,
                                const std::string& layout) {
  if (layout != "second" && layout != "changemamba")
    throw Error("semantic change layout '" + layout + "' (known: second, changemamba)");
  const bool second = layout == "second";
  const std::string file = name + ".png";
  auto hwc = [](const at::Tensor& chw) { return chw.permute({1, 2, 0}).contiguous(); };
  // Everything encoded before anything is written.
  std::vector<std::pair<std::string, at::Tensor>> files{{second ? "im1" : "T1", hwc(pair.a)},
                                                        {second ? "im2" : "T2", hwc(pair.b)}};
  if (second) {
    files.emplace_back("label1", colour_semantic_label(pair.label1));
    files.emplace_back("label2", colour_semantic_label(pair.label2));
  } else {
    files.emplace_back("GT_CD", mask_to_png(pair.change));
    files.emplace_back("GT_T1", pair.label1.unsqueeze(-1).contiguous());
    files.emplace_back("GT_T2", pair.label2.unsqueeze(-1).contiguous());
  }
  InterruptDeferral whole_pair;  // Ctrl-C leaves all the files or none
  for (const auto& [sub, image] : files) {
    fs::create_directories(split_dir / sub);
    write_image((split_dir / sub / file).string(), image);
  }
}

}  // namespace vss::change
