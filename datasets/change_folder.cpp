#include "datasets/change_folder.h"

#include "core/error.h"
#include "core/image_io.h"
#include "core/interrupt.h"

#include <ATen/ATen.h>

namespace vss::change {
namespace {

namespace fs = std::filesystem;

std::string size_text(const at::Tensor& hwc) { return std::to_string(hwc.size(0)) + "x" + std::to_string(hwc.size(1)); }

// [H, W, C] uint8 / uint16 as read -> uint8 with the colour channels only (1 or 3).
at::Tensor to_8bit_colour(at::Tensor image, const std::string& path) {
  if (image.dim() == 2) image = image.unsqueeze(-1);
  const int64_t C = image.size(-1);
  if (C == 2 || C == 4) image = image.narrow(-1, 0, C - 1);  // grey + alpha, RGB + alpha
  else if (C != 1 && C != 3) throw_file_error(path, "has " + std::to_string(C) + " channels (expected 1 to 4)");
  if (image.scalar_type() == at::kUInt16) image = at::round(image.to(at::kFloat) / 257.0).to(at::kByte);
  return image.contiguous();
}

at::Tensor to_grey(const at::Tensor& rgb) {
  const auto f = rgb.to(at::kFloat);
  const auto y = f.select(-1, 0) * 0.299 + f.select(-1, 1) * 0.587 + f.select(-1, 2) * 0.114;
  return at::round(y).clamp(0, 255).to(at::kByte).unsqueeze(-1);
}

std::string first_bad_value(const at::Tensor& mask, const at::Tensor& bad) {
  const auto where = at::nonzero(bad)[0];
  const int64_t row = where[0].item<int64_t>(), col = where[1].item<int64_t>();
  return std::to_string(mask[row][col].item<int64_t>()) + " at row " + std::to_string(row) + ", column " +
         std::to_string(col);
}

std::vector<FileRole> roles_in(const fs::path& dir, bool labels) {
  std::vector<std::string> names{"A", "B"};
  if (labels) names.push_back("label");
  std::vector<FileRole> roles;
  for (const auto& role : names) {
    const fs::path sub = dir / role;
    if (!fs::is_directory(sub)) throw_file_error(sub.string(), "no such folder (expected " + dir.string() + "/{A,B" +
                                                                   (labels ? ",label" : "") + "})");
    roles.push_back({role, list_images(sub.string())});
  }
  return roles;
}

}  // namespace

ChangeSplit find_change_split(const fs::path& root, const std::string& split, bool labels) {
  ChangeSplit out;
  const fs::path levir = root / split, list = root / "list" / (split + ".txt");
  if (fs::is_directory(levir / "A")) {
    out.layout = "levir";
    FileMatching m = match_by_name(roles_in(levir, labels));
    out.pairs = std::move(m.matched);
    out.skipped = std::move(m.skipped);
    return out;
  }
  if (!fs::is_regular_file(list))
    throw_file_error(root.string(), "holds neither " + (levir / "A").string() + " (LEVIR-CD layout) nor " + list.string() +
                                        " (BIT_CD layout)");
  out.layout = "bit";
  FileMatching listed =
      select_listed(match_by_name(roles_in(root, labels)), list.string(), std::string("A, B") + (labels ? ", label" : ""));
  out.pairs = std::move(listed.matched);
  out.skipped = std::move(listed.skipped);
  return out;
}

std::pair<at::Tensor, at::Tensor> read_dates(const std::string& a_path, const std::string& b_path, bool* grey_mix) {
  at::Tensor a = to_8bit_colour(read_image(a_path, ImageMode::kUnchanged), a_path);
  at::Tensor b = to_8bit_colour(read_image(b_path, ImageMode::kUnchanged), b_path);
  if (a.size(0) != b.size(0) || a.size(1) != b.size(1))
    throw Error("pair sizes differ: " + a_path + " is " + size_text(a) + ", " + b_path + " is " + size_text(b));
  const bool mixed = a.size(2) != b.size(2);
  if (grey_mix) *grey_mix = mixed;
  if (mixed) {
    if (a.size(2) == 3) a = to_grey(a);
    else b = to_grey(b);
  }
  auto chw = [](const at::Tensor& hwc) { return hwc.expand({hwc.size(0), hwc.size(1), 3}).permute({2, 0, 1}).contiguous(); };
  return {chw(a), chw(b)};
}

at::Tensor read_change_mask(const std::string& path) {
  at::Tensor m = read_image(path, ImageMode::kUnchanged);
  if (m.dim() == 2) m = m.unsqueeze(-1);
  const int64_t C = m.size(-1);
  if (C == 2 || C == 4) m = m.narrow(-1, 0, C - 1);
  m = m.to(at::kInt);
  const at::Tensor first = m.select(-1, 0);
  for (int64_t c = 1; c < m.size(-1); ++c) {
    const at::Tensor differs = m.select(-1, c).ne(first);
    if (differs.any().item<bool>()) {
      const auto where = at::nonzero(differs)[0];
      throw_file_error(path, "is a colour mask (channels differ at row " + std::to_string(where[0].item<int64_t>()) +
                                 ", column " + std::to_string(where[1].item<int64_t>()) + "); expected 0/255 grey");
    }
  }
  const at::Tensor bad = first.ne(0).logical_and(first.ne(255));
  if (bad.any().item<bool>())
    throw_file_error(path, "label value " + first_bad_value(first, bad) + " (LEVIR-CD masks hold only 0 and 255)");
  return first.eq(255).to(at::kByte);
}

ChangePair read_change_pair(const MatchedFiles& files, bool* grey_mix) {
  if (files.paths.size() < 2 || files.paths.size() > 3)
    throw Error("read_change_pair: expected the files A, B [, label] of '" + files.name + "'");
  ChangePair p;
  std::tie(p.a, p.b) = read_dates(files.paths[0], files.paths[1], grey_mix);
  if (files.paths.size() == 3) {
    p.label = read_change_mask(files.paths[2]);
    if (p.label.size(0) != p.a.size(1) || p.label.size(1) != p.a.size(2))
      throw Error("pair sizes differ: " + files.paths[0] + " is " + std::to_string(p.a.size(1)) + "x" +
                  std::to_string(p.a.size(2)) + ", " + files.paths[2] + " is " + std::to_string(p.label.size(0)) + "x" +
                  std::to_string(p.label.size(1)));
  }
  return p;
}

at::Tensor mask_to_png(const at::Tensor& mask) {
  if (mask.dim() != 2) throw_shape_error("change mask", {-1, -1}, mask.sizes().vec());
  const auto m = mask.to(at::kCPU, at::kInt);
  const auto bad = m.ne(0).logical_and(m.ne(1));
  if (bad.any().item<bool>()) throw Error("change mask: value " + first_bad_value(m, bad) + " (expected 0 or 1)");
  return (m * 255).to(at::kByte).unsqueeze(-1).contiguous();
}

void write_change_pair(const fs::path& split_dir, const std::string& name, const ChangePair& pair) {
  const std::string file = name + ".png";
  const at::Tensor label = mask_to_png(pair.label);  // checked before anything is written
  InterruptDeferral whole_pair;                       // Ctrl-C leaves all three files or none
  for (const char* sub : {"A", "B", "label"}) fs::create_directories(split_dir / sub);
  write_image((split_dir / "A" / file).string(), pair.a.permute({1, 2, 0}).contiguous());
  write_image((split_dir / "B" / file).string(), pair.b.permute({1, 2, 0}).contiguous());
  write_image((split_dir / "label" / file).string(), label);
}

}  // namespace vss::change
