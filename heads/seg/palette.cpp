#include "heads/seg/palette.h"

#include "core/config.h"
#include "core/error.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vss::seg {

namespace {

std::array<uint8_t, 3> colour_from_yaml(const Config& node) {
  const auto rgb = node.as<std::vector<int64_t>>();
  if (rgb.size() != 3) node.fail("a colour is [R, G, B], got " + std::to_string(rgb.size()) + " values");
  std::array<uint8_t, 3> c{};
  for (int k = 0; k < 3; ++k) {
    if (rgb[k] < 0 || rgb[k] > 255) node.fail("colour values must be in 0..255, got " + std::to_string(rgb[k]));
    c[k] = static_cast<uint8_t>(rgb[k]);
  }
  return c;
}

Palette palette_from_yaml(const std::string& path) {
  // A bare YAML list is a common first guess; configs are maps, so say what to write instead.
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (line[first] == '-')
      throw_file_error(path, "a YAML palette is a map 'palette: [[R, G, B], ...]' (optionally with 'classes: "
                             "[...]'); a bare list of colours goes in a .txt file");
    break;
  }
  const Config root = Config::load(path);
  root.check_keys({"palette", "classes"});
  Palette p;
  const Config colours = root["palette"];
  if (root.has("classes")) p.classes = root.get<std::vector<std::string>>("classes");
  if (!colours.is_list()) colours.fail("expected a list of [R, G, B] colours");
  for (size_t i = 0; i < colours.size(); ++i) p.colours.push_back(colour_from_yaml(colours.at(i)));
  return p;
}

Palette palette_from_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_file_error(path, "cannot open the palette file");
  Palette p;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    line = line.substr(0, line.find('#'));
    for (char& ch : line)
      if (ch == ',' || ch == '[' || ch == ']') ch = ' ';
    std::istringstream fields(line);
    std::vector<long long> values;
    for (long long v; fields >> v;) values.push_back(v);
    const bool trailing_garbage = !fields.eof();
    if (values.empty() && !trailing_garbage) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    if (trailing_garbage || values.size() != 3) throw_file_error(where, "expected 'R G B' (three integers)");
    std::array<uint8_t, 3> c{};
    for (int k = 0; k < 3; ++k) {
      if (values[k] < 0 || values[k] > 255) throw_file_error(where, "colour values must be in 0..255");
      c[k] = static_cast<uint8_t>(values[k]);
    }
    p.colours.push_back(c);
  }
  return p;
}

}  // namespace

Palette load_palette(const std::string& path, int64_t num_classes) {
  if (!std::filesystem::exists(path)) throw_file_error(path, "palette file not found");
  Palette p = std::filesystem::path(path).extension() == ".txt" ? palette_from_text(path) : palette_from_yaml(path);
  if (static_cast<int64_t>(p.colours.size()) < num_classes)
    throw_file_error(path, "palette has " + std::to_string(p.colours.size()) + " colours but " +
                               std::to_string(num_classes) + " classes need one each");
  return p;
}

Palette default_palette(int64_t num_classes) {
  Palette p;
  for (int64_t i = 0; i < num_classes; ++i) {
    std::array<uint8_t, 3> c{};
    int64_t bits = i;
    for (int j = 0; j < 8 && bits > 0; ++j, bits >>= 3)
      for (int k = 0; k < 3; ++k) c[k] |= static_cast<uint8_t>(((bits >> k) & 1) << (7 - j));
    p.colours.push_back(c);
  }
  return p;
}

at::Tensor colourize(const at::Tensor& mask, const Palette& palette) {
  if (mask.dim() != 2) throw Error("colourize: expected a class map [H, W], got " + shape_to_string(mask.sizes().vec()));
  const auto n = static_cast<int64_t>(palette.colours.size());
  // One extra black row for classes without a colour.
  at::Tensor lut = at::zeros({n + 1, 3}, at::kByte);
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) lut[i][k] = palette.colours[i][k];
  const at::Tensor m = mask.to(at::kCPU, at::kLong);
  const at::Tensor index = at::where((m >= 0).logical_and(m < n), m, at::full_like(m, n));
  return lut.index_select(0, index.reshape(-1)).reshape({m.size(0), m.size(1), 3});
}

at::Tensor overlay(const at::Tensor& image, const at::Tensor& mask, const Palette& palette, double alpha) {
  if (image.dim() != 3 || image.size(2) != 3 || mask.dim() != 2 || image.size(0) != mask.size(0) ||
      image.size(1) != mask.size(1))
    throw Error("overlay: image " + shape_to_string(image.sizes().vec()) + " must be [H, W, 3] of mask " +
                shape_to_string(mask.sizes().vec()));
  const at::Tensor blended = image.to(at::kCPU, at::kDouble) * (1.0 - alpha) + colourize(mask, palette).to(at::kDouble) * alpha;
  return blended.to(at::kByte);  // truncates, as numpy's astype(np.uint8)
}

}  // namespace vss::seg
