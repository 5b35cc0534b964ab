#pragma once
// COCO-format object detection files (cocodataset.org "Data format", as pycocotools reads them;
// how CrowdHuman and MOT17 are commonly converted for detectors): an instances file
// {images, annotations, categories} and a results file, a list of
// {image_id, category_id, bbox: [x, y, w, h], score}. Boxes are xywh in pixels, top-left origin.
// Readers check types and give one-line vss::Errors "<file>: annotations[3].bbox: ...".
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vss::coco {

struct Image {
  int64_t id = 0;
  std::string file_name;
  int64_t width = 0, height = 0;
};

struct Annotation {
  int64_t id = 0, image_id = 0, category_id = 0;
  double x = 0, y = 0, w = 0, h = 0;
  double area = 0;       // the file's `area` (COCOeval's area ranges use it), else w·h
  // Crowd regions: ignored, matched by intersection over the detection's area. As in
  // pycocotools, an "ignore" key is not read (COCOeval overwrites it with iscrowd).
  bool iscrowd = false;
};

struct Category {
  int64_t id = 0;
  std::string name;
};

struct Instances {
  std::vector<Image> images;
  std::vector<Annotation> annotations;
  std::vector<Category> categories;
};

struct Result {
  int64_t image_id = 0, category_id = 0;
  double x = 0, y = 0, w = 0, h = 0;
  double score = 0;
};

Instances read_instances(const std::filesystem::path& file);
std::vector<Result> read_results(const std::filesystem::path& file);

// Writers through an AtomicFile (numbers with up to 17 significant digits, sorted as given).
void write_instances(const std::filesystem::path& file, const Instances& instances);
void write_results(const std::filesystem::path& file, const std::vector<Result>& results);

}  // namespace vss::coco
