// vss-classify: image classification with a VSSM classifier.
//   vss-classify --weights W [--config C] [--classes FILE] [--json] IMAGE|FOLDER...
//       top-k classes of each image, in batches (--json: one JSON object per image and line);
//   vss-classify eval --data DIR [--labels FILE] --weights W [--config C] [--json]
//       top-1 / top-5 and per-class accuracy over an ImageFolder (DIR/<class>/*) or ImageNet's
//       flat validation folder with its labels file (datasets/image_folder.h);
//   vss-classify export --run RUN_DIR [--checkpoint best|last] [--no-ema] --out W
//       a vss-train run's weights with its model config, class names and eval transform, so
//       the two commands above need only --weights.
// Preprocessing is timm's eval transform (datasets/classification_pipeline.h): the shorter
// side resized (PIL's antialiased bicubic) to floor(size / crop_pct), centre crop size,
// normalised; the weights' own settings when they carry them, else 224 / 0.875 and ImageNet's
// mean / std. An image that does not decode is skipped with a warning naming it and counted in
// the summary.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "core/progress.h"
#include "datasets/image_folder.h"
#include "datasets/unreadable_images.h"
#include "engine/classifier_loader.h"
#include "engine/device_options.h"
#include "engine/mixed_precision.h"
#include "engine/run_export.h"
#include "heads/classify/topk_accuracy.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The options both commands take to build the classifier and run it.
class ModelOptions {
 public:
  explicit ModelOptions(vss::ArgParser& p)
      : weights_(p.option("--weights", "FILE", "", "safetensors weights (vss-classify export, tools/convert_pth.py)", true)),
        config_(p.option("--config", "FILE", "", "classifier YAML (type: vssm); default: the one the weights carry, "
                                                 "else configs/backbones/vmamba_tiny.yaml")),
        sets_(p.multi("--set", "key=value", "override a config key")),
        num_classes_(p.option("--num-classes", "N", "", "the model's class count, for weights with another head than the config's")),
        non_strict_(p.flag("--non-strict", "allow another classifier head (it stays untrained)")),
        classes_(p.option("--classes", "FILE", "", "class names, one per line (default: the weights', else indices)")),
        size_(p.option("--size", "N", "", "crop size (default: the weights', else 224)")),
        crop_pct_(p.option("--crop-pct", "F", "", "timm's crop_pct: resize the shorter side to size / F first "
                                                   "(default: the weights', else 0.875)")),
        interpolation_(p.option("--interpolation", "bicubic|bilinear", "", "resize filter (default: the weights', else bicubic)")),
        batch_(p.option("--batch", "N", "32", "images per forward pass")),
        device_(p, {.dtype_help = "bf16: autocast to bfloat16 (CUDA)", .bf16_needs_cuda = true}) {}

  // After parsing: the classifier, ready on its device, and the settings. Bad option values
  // are usage errors; files that do not fit are vss::Error naming them.
  vss::Classifier load() {
    batch = batch_.as_int(1, 4096);
    run_on = device_.read();

    vss::ClassifierRequest request;
    request.weights = weights_.str();
    request.config = config_.str();
    request.fallback_config = "configs/backbones/vmamba_tiny.yaml";
    request.sets = sets_.values;
    request.num_classes = num_classes_ ? num_classes_.as_int(1, vss::kMaxListEntry) : 0;
    request.other_head = non_strict_;
    request.classes_file = classes_.str();
    vss::Classifier c = vss::load_classifier(request);
    for (const auto& key : c.untrained)
      vss::log::warn(key, " kept at its initial values (not in ", weights_.str(), " for this head)");
    if (size_) c.pipeline.size = size_.as_int(1, 1 << 14);
    if (crop_pct_) {
      c.pipeline.crop_pct = crop_pct_.as_double();
      if (!(c.pipeline.crop_pct > 0 && c.pipeline.crop_pct <= 1)) throw vss::UsageError("--crop-pct must be in (0, 1]");
    }
    if (interpolation_) {
      try {
        c.pipeline.interpolation = vss::parse_interpolation(interpolation_.str());
      } catch (const vss::Error& e) {
        throw vss::UsageError(std::string("--interpolation: ") + e.what());
      }
    }
    c.model->to(run_on.device);
    c.model->eval();
    return c;
  }

  // Logits [B, C] float32 on the CPU of a batch of preprocessed images.
  at::Tensor logits(vss::Classifier& c, const std::vector<at::Tensor>& images) const {
    c10::InferenceMode inference;
    vss::AutocastScope autocast(run_on.device, run_on.precision.autocast);
    return c.model->forward(torch::stack(images).to(run_on.device)).to(at::kCPU, at::kFloat);
  }

  int64_t batch = 0;
  vss::DeviceChoice run_on;

 private:
  vss::ArgParser::Option &weights_, &config_, &sets_, &num_classes_, &non_strict_, &classes_, &size_, &crop_pct_,
      &interpolation_, &batch_;
  vss::DeviceOptions device_;
};

// Files, folders (their images, recursively) and globs -> image paths in the order given.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::recursive_directory_iterator(in))
        if (entry.is_regular_file() && vss::has_image_extension(entry.path().string())) found.push_back(entry.path().string());
      if (found.empty()) vss::throw_file_error(in, "folder holds no image files (.png .jpg .tif .bmp ...)");
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(in)) {
      out.push_back(in);
    } else {
      const auto matched = vss::list_images(in);  // a glob; errors name it
      out.insert(out.end(), matched.begin(), matched.end());
    }
  }
  return out;
}

std::string skipped_note(const vss::UnreadableImages& unreadable) {
  return unreadable.count() ? ", " + std::to_string(unreadable.count()) + " unreadable skipped" : "";
}

int run_predict(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-classify", "Classifies images with a VSSM classifier: prints the top-k classes of each image. "
                                   "Commands: eval, export (see <command> --help).");
  ModelOptions model_options(p);
  auto& topk = p.option("--topk", "K", "5", "classes to print per image");
  auto& json_out = p.flag("--json", "one JSON object per image and line instead of text");
  p.positional("IMAGE", "image files, folders (searched recursively) or globs", 1);
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-classify");
  const int64_t k_wanted = topk.as_int(1, vss::kMaxListEntry);
  const std::vector<std::string> files = expand_inputs(p.positionals());
  vss::Classifier classifier = model_options.load();
  const int64_t k = std::min(k_wanted, classifier.model->options().num_classes);

  vss::UnreadableImages unreadable;
  int64_t done = 0;
  vss::Progress bar(static_cast<int64_t>(files.size()), "classify", {.unit = "img"});
  for (size_t first = 0; first < files.size(); first += static_cast<size_t>(model_options.batch)) {
    const size_t last = std::min(files.size(), first + static_cast<size_t>(model_options.batch));
    std::vector<at::Tensor> images;
    std::vector<std::string> names;
    for (size_t i = first; i < last; ++i)
      if (auto image = unreadable.read_rgb(files[i])) {
        images.push_back(classifier.pipeline.eval(*image));
        names.push_back(files[i]);
      }
    bar.update(static_cast<int64_t>(last));
    if (images.empty()) continue;
    const auto [values, indices] = torch::softmax(model_options.logits(classifier, images), 1).topk(k, 1);
    for (size_t row = 0; row < names.size(); ++row) {
      json top = json::array();
      if (!json_out) std::printf("%s\n", names[row].c_str());
      for (int64_t j = 0; j < k; ++j) {
        const int64_t cls = indices[static_cast<int64_t>(row)][j].item<int64_t>();
        const double prob = values[static_cast<int64_t>(row)][j].item<double>();
        const std::string name = classifier.label(cls);
        top.push_back({{"class", cls}, {"label", name}, {"prob", prob}});
        if (!json_out)
          std::printf("  %2lld. %-40s %6.2f%%  (class %lld)\n", static_cast<long long>(j + 1), name.c_str(), 100.0 * prob,
                      static_cast<long long>(cls));
      }
      if (json_out) std::printf("%s\n", json{{"file", names[row]}, {"top", top}}.dump().c_str());
      ++done;
    }
    std::fflush(stdout);
  }
  bar.finish();
  if (done == 0) throw vss::Error("no image could be read (" + std::to_string(files.size()) + " given)");
  vss::log::info("classified ", done, " image(s)", skipped_note(unreadable));
  return 0;
}

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

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-classify export",
                                       "Writes the classifier of a vss-train run (task: classification) as safetensors "
                                       "that carry its model config, class names and eval transform.",
                                       "best", &rc);
  if (!e) return rc;
  auto model = std::dynamic_pointer_cast<vss::VSSM>(vss::make_backbone(e->config["model"]));
  if (!model || model->is_dense_backbone()) e->config["model"].fail("the run's model is not a VSSM classifier");
  vss::load_state(*model, e->weights.state, e->source);
  std::map<std::string, std::string> metadata{{"model", e->config["model"].dump()}, {"step", std::to_string(e->step)}};
  if (!e->classes.empty()) metadata[vss::kClassesMetadata] = json(e->classes).dump();
  const vss::Config data = e->config["data"];
  if (data.has("pipeline")) metadata[vss::kPipelineMetadata] = data["pipeline"].dump();
  vss::save_weights(*model, e->out, metadata);
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

int run(const std::vector<std::string>& args) {
  return vss::run_subcommand(args, {{"eval", run_eval}, {"export", run_export}}, run_predict);
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-classify", argc, argv, run); }
