// COCO instances and results JSON (see coco_detection.h).
#include "datasets/coco_detection.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <nlohmann/json.hpp>

#include <array>
#include <fstream>
#include <set>

namespace vss::coco {
namespace {

using nlohmann::json;

json parse_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_file_error(file.string(), "cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw_file_error(file.string(), std::string("not valid JSON: ") + e.what());
  }
}

struct Reader {
  const std::filesystem::path& file;
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw_file_error(file.string(), where + ": " + what);
  }
  const json& member(const json& obj, const std::string& where, const char* key) const {
    if (!obj.is_object()) fail(where, "expected an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(where, std::string("missing key '") + key + "'");
    return *it;
  }
  int64_t integer(const json& obj, const std::string& where, const char* key) const {
    const json& v = member(obj, where, key);
    // pycocotools accepts 7.0 as an id only by accident of Python's hashing; ids are integers.
    if (!v.is_number_integer()) fail(where + "." + key, "expected an integer");
    return v.get<int64_t>();
  }
  double number(const json& v, const std::string& where) const {
    if (!v.is_number()) fail(where, "expected a number");
    return v.get<double>();
  }
  std::array<double, 4> bbox(const json& obj, const std::string& where) const {
    const json& b = member(obj, where, "bbox");
    if (!b.is_array() || b.size() != 4) fail(where + ".bbox", "expected [x, y, w, h]");
    std::array<double, 4> out{};
    for (size_t i = 0; i < 4; ++i) out[i] = number(b[i], where + ".bbox[" + std::to_string(i) + "]");
    if (out[2] < 0 || out[3] < 0) fail(where + ".bbox", "negative width or height");
    return out;
  }
  const json& list(const json& root, const char* key) const {
    const json& v = member(root, "top level", key);
    if (!v.is_array()) fail(key, "expected a list");
    return v;
  }
};

}  // namespace

Instances read_instances(const std::filesystem::path& file) {
  const json root = parse_file(file);
  const Reader r{file};
  Instances out;
  std::set<int64_t> image_ids, category_ids;
  const json& images = r.list(root, "images");
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    Image im;
    im.id = r.integer(images[i], where, "id");
    if (!image_ids.insert(im.id).second) r.fail(where + ".id", "duplicate image id " + std::to_string(im.id));
    if (images[i].contains("file_name")) {
      if (!images[i]["file_name"].is_string()) r.fail(where + ".file_name", "expected a string");
      im.file_name = images[i]["file_name"].get<std::string>();
    }
    if (images[i].contains("width")) im.width = r.integer(images[i], where, "width");
    if (images[i].contains("height")) im.height = r.integer(images[i], where, "height");
    out.images.push_back(std::move(im));
  }
  if (root.contains("categories")) {
    const json& cats = r.list(root, "categories");
    for (size_t i = 0; i < cats.size(); ++i) {
      const std::string where = "categories[" + std::to_string(i) + "]";
      Category c;
      c.id = r.integer(cats[i], where, "id");
      if (!category_ids.insert(c.id).second) r.fail(where + ".id", "duplicate category id " + std::to_string(c.id));
      if (cats[i].contains("name") && cats[i]["name"].is_string()) c.name = cats[i]["name"].get<std::string>();
      out.categories.push_back(std::move(c));
    }
  }
  const json& anns = r.list(root, "annotations");
  for (size_t i = 0; i < anns.size(); ++i) {
    const std::string where = "annotations[" + std::to_string(i) + "]";
    Annotation a;
    a.id = anns[i].contains("id") ? r.integer(anns[i], where, "id") : static_cast<int64_t>(i) + 1;
    a.image_id = r.integer(anns[i], where, "image_id");
    if (!image_ids.count(a.image_id))
      r.fail(where + ".image_id", "image " + std::to_string(a.image_id) + " is not in images");
    a.category_id = r.integer(anns[i], where, "category_id");
    const auto b = r.bbox(anns[i], where);
    a.x = b[0], a.y = b[1], a.w = b[2], a.h = b[3];
    a.area = anns[i].contains("area") ? r.number(anns[i]["area"], where + ".area") : a.w * a.h;
    if (anns[i].contains("iscrowd")) {
      const json& c = anns[i]["iscrowd"];
      if (c.is_boolean()) a.iscrowd = c.get<bool>();
      else a.iscrowd = r.number(c, where + ".iscrowd") != 0;
    }
    out.annotations.push_back(a);
  }
  return out;
}

std::vector<Result> read_results(const std::filesystem::path& file) {
  const json root = parse_file(file);
  const Reader r{file};
  if (!root.is_array()) r.fail("top level", "expected a list of {image_id, category_id, bbox, score}");
  std::vector<Result> out;
  for (size_t i = 0; i < root.size(); ++i) {
    const std::string where = "[" + std::to_string(i) + "]";
    Result d;
    d.image_id = r.integer(root[i], where, "image_id");
    d.category_id = r.integer(root[i], where, "category_id");
    const auto b = r.bbox(root[i], where);
    d.x = b[0], d.y = b[1], d.w = b[2], d.h = b[3];
    d.score = r.number(r.member(root[i], where, "score"), where + ".score");
    out.push_back(d);
  }
  return out;
}

void write_instances(const std::filesystem::path& file, const Instances& in) {
  json images = json::array(), anns = json::array(), cats = json::array();
  for (const auto& im : in.images)
    images.push_back({{"id", im.id}, {"file_name", im.file_name}, {"width", im.width}, {"height", im.height}});
  for (const auto& a : in.annotations) {
    json j = {{"id", a.id},       {"image_id", a.image_id}, {"category_id", a.category_id},
              {"bbox", {a.x, a.y, a.w, a.h}}, {"area", a.area}, {"iscrowd", a.iscrowd ? 1 : 0}};
    anns.push_back(std::move(j));
  }
  for (const auto& c : in.categories) cats.push_back({{"id", c.id}, {"name", c.name}});
  AtomicFile out(file);
  out.stream() << json{{"images", images}, {"annotations", anns}, {"categories", cats}}.dump();
  out.commit();
}

void write_results(const std::filesystem::path& file, const std::vector<Result>& results) {
  json list = json::array();
  for (const auto& d : results)
    list.push_back({{"image_id", d.image_id}, {"category_id", d.category_id}, {"bbox", {d.x, d.y, d.w, d.h}},
                    {"score", d.score}});
  AtomicFile out(file);
  out.stream() << list.dump();
  out.commit();
}

}  // namespace vss::coco
