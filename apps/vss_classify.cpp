// vss-classify: image(s) -> top-k ImageNet classes with a VSSM classifier.
// Preprocessing as the official evaluation (specs/vmamba.md §5): resize the shorter side to
// 256 (bicubic), centre crop 224, RGB in [0, 1], normalise with the ImageNet mean / std.
// OpenCV's bicubic kernel (a = -0.75) differs slightly from PIL's (a = -0.5), so
// probabilities can differ from the Python pipeline in the last digits.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace {

// [3, crop, crop] float32, normalised.
at::Tensor preprocess(const std::string& path, int64_t resize, int64_t crop) {
  const at::Tensor image = vss::read_image(path, vss::ImageMode::kRgb);  // errors name the file and the limits
  const cv::Mat rgb(static_cast<int>(image.size(0)), static_cast<int>(image.size(1)), CV_8UC3, image.data_ptr());
  // torchvision Resize(int): the shorter side becomes `resize`, the other keeps the aspect (truncated).
  const int h = rgb.rows, w = rgb.cols;
  const int nh = h <= w ? static_cast<int>(resize) : static_cast<int>(resize * static_cast<int64_t>(h) / w);
  const int nw = h <= w ? static_cast<int>(resize * static_cast<int64_t>(w) / h) : static_cast<int>(resize);
  cv::Mat resized;
  cv::resize(rgb, resized, cv::Size(nw, nh), 0, 0, cv::INTER_CUBIC);
  if (nh < crop || nw < crop)
    vss::throw_file_error(path, "resized to " + std::to_string(nh) + "x" + std::to_string(nw) +
                                    ", smaller than the " + std::to_string(crop) + " crop");
  const int top = static_cast<int>(std::lround((nh - crop) / 2.0));
  const int left = static_cast<int>(std::lround((nw - crop) / 2.0));
  cv::Mat patch = resized(cv::Rect(left, top, static_cast<int>(crop), static_cast<int>(crop))).clone();
  at::Tensor t = torch::from_blob(patch.data, {crop, crop, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat) / 255.0;
  const auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  return (t - mean) / std;
}

std::vector<std::string> read_labels(const std::string& path) {
  std::ifstream in(path);
  if (!in) vss::throw_file_error(path, "cannot open the labels file");
  std::vector<std::string> labels;
  for (std::string line; std::getline(in, line);) labels.push_back(line);
  return labels;
}

int run(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-classify",
                   "Classifies images with a VSSM classifier: prints the top-k classes of each image.");
  auto& config = p.option("--config", "FILE", "configs/backbones/vmamba_tiny.yaml", "classifier YAML (type: vssm)");
  auto& sets = p.multi("--set", "key=value", "override a config key (repeatable)");
  auto& weights = p.option("--weights", "FILE", "", "safetensors weights (tools/convert_pth.py converts official .pth)", true);
  auto& non_strict = p.flag("--non-strict", "allow another classifier head (another num_classes; it stays untrained)");
  auto& labels_file = p.option("--labels", "FILE", "", "class names, one per line (default: class indices)");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cpu", "where to run");
  auto& topk = p.option("--topk", "K", "5", "classes to print per image");
  auto& resize = p.option("--resize", "N", "256", "shorter side after resizing");
  auto& crop = p.option("--crop", "N", "224", "centre crop size");
  auto& batch = p.option("--batch", "N", "16", "images per forward pass");
  auto& json = p.flag("--json", "print JSON instead of text");
  p.positional("IMAGE", "image files (any format OpenCV reads)", 1);
  if (int rc = p.parse(args); rc >= 0) return rc;

  int64_t k = 0, resize_to = 0, crop_to = 0, batch_size = 0;
  at::Device dev(at::kCPU);
  try {
    k = topk.as_int(1, vss::kMaxListEntry);
    resize_to = resize.as_int(1, vss::kMaxListEntry);
    crop_to = crop.as_int(1, vss::kMaxListEntry);
    batch_size = batch.as_int(1, 4096);
    dev = at::Device(device.str());
  } catch (const vss::Error& e) {
    std::fprintf(stderr, "vss-classify: %s\ntry --help\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "vss-classify: --device: %s\ntry --help\n", e.what_without_backtrace());
    return 2;
  }
  if (dev.is_cuda() && !torch::cuda::is_available())
    throw vss::Error("--device " + device.str() + ": no CUDA device is available");

  vss::Config node = vss::Config::load(config.str());
  for (const auto& s : sets.values) node.apply_override(s);
  auto model = std::dynamic_pointer_cast<vss::VSSM>(vss::make_backbone(node));
  if (!model || model->is_dense_backbone()) node.fail("vss-classify needs a classifier config (type: vssm)");
  const auto report =
      vss::load_weights(*model, weights.str(), non_strict ? vss::WeightMatch::kOtherHead : vss::WeightMatch::kStrict);
  // Only the head can be left out by now: say that its predictions are untrained.
  std::vector<std::string> untrained = report.mismatched;
  untrained.insert(untrained.end(), report.missing.begin(), report.missing.end());
  for (const auto& key : untrained)
    std::fprintf(stderr, "vss-classify: warning: %s kept at its initial values (not in %s for this head)\n",
                 key.c_str(), weights.str().c_str());
  model->to(dev);
  model->eval();
  const std::vector<std::string> labels = labels_file ? read_labels(labels_file.str()) : std::vector<std::string>{};
  k = std::min(k, model->options().num_classes);

  c10::InferenceMode inference;
  nlohmann::json results = nlohmann::json::array();
  const auto& files = p.positionals();
  for (size_t first = 0; first < files.size(); first += static_cast<size_t>(batch_size)) {
    const size_t last = std::min(files.size(), first + static_cast<size_t>(batch_size));
    std::vector<at::Tensor> images;
    for (size_t i = first; i < last; ++i) images.push_back(preprocess(files[i], resize_to, crop_to));
    const auto probs = torch::softmax(model->forward(torch::stack(images).to(dev)), 1).to(at::kCPU);
    const auto [values, indices] = probs.topk(k, 1);
    for (size_t i = first; i < last; ++i) {
      nlohmann::json top = nlohmann::json::array();
      const auto row = static_cast<int64_t>(i - first);
      if (!json) std::printf("%s\n", files[i].c_str());
      for (int64_t j = 0; j < k; ++j) {
        const int64_t cls = indices[row][j].item<int64_t>();
        const double prob = values[row][j].item<double>();
        const std::string name = cls < static_cast<int64_t>(labels.size()) ? labels[cls] : std::to_string(cls);
        top.push_back({{"class", cls}, {"label", name}, {"prob", prob}});
        if (!json) std::printf("  %2lld. %-40s %6.2f%%  (class %lld)\n", static_cast<long long>(j + 1),
                               name.c_str(), 100.0 * prob, static_cast<long long>(cls));
      }
      results.push_back({{"file", files[i]}, {"top", top}});
    }
  }
  if (json) std::printf("%s\n", nlohmann::json{{"images", results}}.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-classify", argc, argv, run); }
