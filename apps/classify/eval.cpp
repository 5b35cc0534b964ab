// vss-classify eval: top-1 / top-5 and per-class accuracy of a classifier on labelled images.
#include "apps/classify/commands.h"
#include "apps/classify/model_options.h"
#include "backbones/vssm.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "datasets/image_folder.h"
#include "heads/classify/topk_accuracy.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

namespace vss_classify {

using json = nlohmann::json;

namespace {

// The split to score, labelled with the model's classes: the names the weights or --classes
// give; else a flat folder's labels are class indices, and an ImageFolder's sorted folders
// must be as many as the model's outputs (ImageNet's synset folders are).
vss::LabelledImages open_eval_data(const std::string& data, const std::string& labels, const vss::Classifier& c) {
  const int64_t num_classes = c.model->options().num_classes;
  if (!labels.empty()) {
    std::vector<std::string> names = c.classes;
    if (names.empty())
      for (int64_t i = 0; i < num_classes; ++i) names.push_back(std::to_string(i));
    return vss::open_labelled_folder(data, labels, names);
  }
  vss::LabelledImages set = vss::open_image_folder(data, c.classes);
  if (c.classes.empty() && static_cast<int64_t>(set.classes.size()) != num_classes)
    vss::throw_file_error(data, "has " + std::to_string(set.classes.size()) + " class folders but the model has " +
                                    std::to_string(num_classes) +
                                    " classes; name the model's classes in order with --classes FILE");
  return set;
}

}  // namespace

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-classify eval",
                   "Scores a classifier on labelled images: top-1 / top-5 and per-class top-1 accuracy (fractions).");
  ModelOptions model_options(p);
  auto& data = p.option("--data", "DIR", "", "ImageFolder (DIR/<class>/*.jpg) or a flat folder with --labels", true);
  auto& labels = p.option("--labels", "FILE", "", "labels file of a flat folder: '<file> <class name or index>' per line");
  auto& json_out = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-classify eval");
  vss::Classifier classifier = model_options.load();
  const vss::LabelledImages set = open_eval_data(data.str(), labels.str(), classifier);
  if (classifier.classes.empty()) classifier.classes = set.classes;  // the folders name the outputs
  const int64_t num_classes = classifier.model->options().num_classes;

  vss::TopkAccuracy accuracy(num_classes);
  vss::UnreadableImages unreadable;
  vss::Progress bar(set.size(), "eval", {.unit = "img"});
  for (int64_t first = 0; first < set.size(); first += model_options.batch) {
    const int64_t last = std::min(set.size(), first + model_options.batch);
    std::vector<at::Tensor> images;
    std::vector<int64_t> targets;
    for (int64_t i = first; i < last; ++i)
      if (auto image = unreadable.read_rgb(set.paths[static_cast<size_t>(i)])) {
        images.push_back(classifier.pipeline.eval(*image));
        targets.push_back(set.labels[static_cast<size_t>(i)]);
      }
    if (!images.empty()) accuracy.add(model_options.logits(classifier, images), torch::tensor(targets, torch::kInt64));
    bar.update(last);
  }
  bar.finish();
  if (accuracy.count() == 0) throw vss::Error(data.str() + ": no image could be read (" + std::to_string(set.size()) + ")");

  if (json_out) {
    json per_class = json::array();
    for (int64_t c = 0; c < num_classes; ++c) {
      if (accuracy.class_count(c) == 0) continue;
      per_class.push_back({{"class", c}, {"label", classifier.label(c)}, {"images", accuracy.class_count(c)},
                           {"top1", *accuracy.class_top1(c)}});
    }
    const json out{{"data", data.str()},
                   {"images", accuracy.count()},
                   {"unreadable", unreadable.files()},
                   {"mean", {{"top1", accuracy.top1()}, {"top5", accuracy.top5()}}},
                   {"per_class", per_class}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%-32s %8s %8s\n", "class", "images", "top1");
    for (int64_t c = 0; c < num_classes; ++c)
      if (accuracy.class_count(c) > 0)
        std::printf("%-32s %8lld %8.4f\n", classifier.label(c).c_str(), static_cast<long long>(accuracy.class_count(c)),
                    *accuracy.class_top1(c));
    std::printf("%s: top1 %.4f  top5 %.4f  (%lld images%s)\n", data.str().c_str(), accuracy.top1(), accuracy.top5(),
                static_cast<long long>(accuracy.count()), skipped_note(unreadable).c_str());
  }
  return 0;
}

}  // namespace vss_classify
