#include "datasets/image_folder.h"

#include "core/error.h"
#include "core/image_io.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

namespace vss {

namespace fs = std::filesystem;

namespace {

// Index of `name` in `classes`, or -1.
int64_t class_index(const std::vector<std::string>& classes, const std::string& name) {
  const auto it = std::find(classes.begin(), classes.end(), name);
  return it == classes.end() ? -1 : static_cast<int64_t>(it - classes.begin());
}

std::vector<std::string> images_under(const fs::path& folder) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(folder, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec))
    if (it->is_regular_file() && has_image_extension(it->path().string())) out.push_back(it->path().string());
  if (ec) throw_file_error(folder.string(), "cannot list: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// "<file> <class>" with whitespace or a comma between; only the class's first word counts.
bool split_label_line(std::string line, std::string& file, std::string& label) {
  std::replace(line.begin(), line.end(), ',', ' ');
  std::replace(line.begin(), line.end(), '\t', ' ');
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const auto a = line.find_first_not_of(' ');
  if (a == std::string::npos) return false;
  const auto b = line.find(' ', a);
  const auto c = b == std::string::npos ? std::string::npos : line.find_first_not_of(' ', b);
  if (c == std::string::npos) return false;
  file = line.substr(a, b - a);
  label = line.substr(c, line.find(' ', c) - c);
  return true;
}

}  // namespace

LabelledImages open_image_folder(const fs::path& root, const std::vector<std::string>& classes) {
  if (!fs::is_directory(root)) throw_file_error(root.string(), "no such folder (expected ROOT/<class>/<image>)");
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory()) found.push_back(entry.path().filename().string());
  std::sort(found.begin(), found.end());
  if (found.empty())
    throw_file_error(root.string(), "holds no class folders (expected ROOT/<class>/<image>, torchvision's ImageFolder)");
  LabelledImages out;
  out.classes = classes.empty() ? found : classes;
  // Labels ascend with the class order, as torchvision lists samples.
  std::vector<std::pair<int64_t, std::string>> ordered;
  for (const auto& name : found) {
    const int64_t label = class_index(out.classes, name);
    if (label < 0)
      throw_file_error((root / name).string(), "class '" + name + "' is not one of the " +
                                                   std::to_string(out.classes.size()) + " training classes");
    ordered.emplace_back(label, name);
  }
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [label, name] : ordered) {
    const auto images = images_under(root / name);
    if (images.empty())
      throw_file_error((root / name).string(), "class folder holds no images (.jpg .jpeg .png .bmp .tif .webp .ppm .pgm)");
    for (const auto& p : images) {
      out.paths.push_back(p);
      out.labels.push_back(label);
    }
  }
  return out;
}

LabelledImages open_labelled_folder(const fs::path& folder, const fs::path& labels_file,
                                    const std::vector<std::string>& classes) {
  const std::vector<std::string> images = list_images(folder.string());  // errors name the folder
  std::map<std::string, size_t> by_name, by_stem;
  std::set<std::string> ambiguous_stems;
  for (size_t i = 0; i < images.size(); ++i) {
    const fs::path p(images[i]);
    by_name[p.filename().string()] = i;
    if (!by_stem.emplace(p.stem().string(), i).second) ambiguous_stems.insert(p.stem().string());
  }

  std::ifstream in(labels_file);
  if (!in) throw_file_error(labels_file.string(), "cannot open the labels file");
  struct Line {
    size_t image;
    std::string label;
    int number;
  };
  std::vector<Line> lines;
  std::vector<int> named_on(images.size(), 0);
  std::string text, file, label;
  for (int number = 1; std::getline(in, text); ++number) {
    const std::string where = labels_file.string() + ":" + std::to_string(number);
    if (!split_label_line(text, file, label)) {
      if (text.find_first_not_of(" \t\r,") == std::string::npos) continue;  // blank line
      throw Error(where + ": expected '<file> <class>', got '" + text + "'");
    }
    if (number == 1 && file == "ImageId" && label == "PredictionString") continue;
    size_t image;
    if (auto it = by_name.find(file); it != by_name.end()) {
      image = it->second;
    } else if (auto s = by_stem.find(file); s != by_stem.end() && !ambiguous_stems.count(file)) {
      image = s->second;
    } else {
      throw Error(where + ": " + (ambiguous_stems.count(file) ? "'" + file + "' names several images in "
                                                              : "no image '" + file + "' in ") +
                  folder.string());
    }
    if (named_on[image])
      throw Error(where + ": " + images[image] + " was already labelled on line " + std::to_string(named_on[image]));
    named_on[image] = number;
    lines.push_back({image, label, number});
  }
  for (size_t i = 0; i < images.size(); ++i)
    if (!named_on[i]) throw_file_error(images[i], "has no line in the labels file " + labels_file.string());

  LabelledImages out;
  out.classes = classes;
  if (out.classes.empty()) {
    std::set<std::string> names;
    for (const auto& l : lines) names.insert(l.label);
    out.classes.assign(names.begin(), names.end());
  }
  std::vector<std::pair<int64_t, std::string>> samples;
  for (const auto& l : lines) {
    const std::string where = labels_file.string() + ":" + std::to_string(l.number);
    int64_t index = class_index(out.classes, l.label);
    if (index < 0 && all_digits(l.label) && !classes.empty() && l.label.size() < 10) {
      index = std::stoll(l.label);
      if (index >= static_cast<int64_t>(classes.size()))
        throw Error(where + ": class index " + l.label + " is out of range (" + std::to_string(classes.size()) +
                    " classes)");
    }
    if (index < 0)
      throw Error(where + ": class '" + l.label + "' is not one of the " + std::to_string(out.classes.size()) +
                  " training classes");
    samples.emplace_back(index, images[l.image]);
  }
  std::sort(samples.begin(), samples.end());
  for (const auto& [label, path] : samples) {
    out.labels.push_back(label);
    out.paths.push_back(path);
  }
  return out;
}

}  // namespace vss
