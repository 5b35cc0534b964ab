#include "datasets/seg_files.h"

#include "core/error.h"
#include "core/image_io.h"

#include <ATen/ATen.h>

namespace vss {

namespace {

std::string size_text(int64_t H, int64_t W) { return std::to_string(H) + "x" + std::to_string(W); }

}  // namespace

at::Tensor read_seg_image(const std::string& path, SegImageInfo* info) {
  at::Tensor img = read_image(path, ImageMode::kUnchanged);  // [H, W, C]
  SegImageInfo seen;
  const int64_t C = img.size(2);
  if (C == 2 || C == 4) {
    seen.had_alpha = true;
    img = img.narrow(2, 0, C - 1);
  }
  if (img.size(2) == 1) {
    seen.was_grey = true;
    img = img.expand({-1, -1, 3});
  }
  if (img.scalar_type() == at::kUInt16) {
    seen.was_16bit = true;
    img = at::round(img.to(at::kFloat) / 257.0f);
  }
  if (info) *info = seen;
  return img.permute({2, 0, 1}).to(at::kByte).contiguous();
}

at::Tensor read_index_map(const std::string& path, bool* is_16bit) {
  at::Tensor img = read_image(path, ImageMode::kUnchanged);  // [H, W, C]
  if (is_16bit) *is_16bit = img.scalar_type() == at::kUInt16;
  int64_t C = img.size(2);
  if (C == 2 || C == 4) img = img.narrow(2, 0, --C);  // alpha
  at::Tensor map = img.select(2, 0).to(at::kLong);
  if (C > 1 && !img.to(at::kLong).eq(map.unsqueeze(2)).all().item<bool>())
    throw_file_error(path, "is a colour image; label maps must hold one class id per pixel (a grey / index PNG; "
                           "convert palette or colour masks to class ids first)");
  return map.contiguous();
}

at::Tensor map_labels(const at::Tensor& stored, const LabelOptions& o, const std::string& what, bool is_16bit) {
  at::Tensor label = stored.to(at::kLong);
  if (o.binary) {
    if (label.numel() > 0 && label.max().item<int64_t>() > 1) label = (label >= (is_16bit ? 32768 : 128)).to(at::kLong);
  } else if (o.reduce_zero_label) {
    label = at::where(label == 0, at::full_like(label, 255), label - 1);
    label = at::where(label == 254, at::full_like(label, 255), label);
    if (o.ignore_index != 255) label = at::where(label == 255, at::full_like(label, o.ignore_index), label);
  }
  const at::Tensor bad = (label < 0).logical_or(label >= o.num_classes).logical_and(label != o.ignore_index);
  if (bad.any().item<bool>()) {
    const at::Tensor where = bad.nonzero()[0];
    const int64_t y = where[0].item<int64_t>(), x = where[1].item<int64_t>();
    const int64_t raw = stored[y][x].item<int64_t>(), mapped = label[y][x].item<int64_t>();
    std::string value = "label value " + std::to_string(raw);
    if (mapped != raw) value += " (" + std::to_string(mapped) + " after reduce_zero_label)";
    throw_file_error(what, value + " at pixel (x " + std::to_string(x) + ", y " + std::to_string(y) +
                               ") is outside the classes 0.." + std::to_string(o.num_classes - 1) +
                               " and is not the ignore index " + std::to_string(o.ignore_index));
  }
  return label;
}

at::Tensor read_label_map(const std::string& path, const LabelOptions& o) {
  if (o.num_classes < 1) throw Error("read_label_map: num_classes must be >= 1");
  bool is_16bit = false;
  const at::Tensor stored = read_index_map(path, &is_16bit);
  return map_labels(stored, o, path, is_16bit);
}

void check_same_size(const std::string& image_path, const at::Tensor& image, const std::string& label_path,
                     const at::Tensor& label) {
  const int64_t H = image.size(-2), W = image.size(-1);
  if (label.size(0) != H || label.size(1) != W)
    throw_file_error(label_path, "label map is " + size_text(label.size(0), label.size(1)) + " (HxW) but its image " +
                                     image_path + " is " + size_text(H, W));
}

}  // namespace vss
