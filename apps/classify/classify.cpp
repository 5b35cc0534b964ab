// vss-classify (the main command): the top-k classes of each image.
#include "apps/classify/commands.h"
#include "apps/classify/model_options.h"
#include "backbones/vssm.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "core/progress.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace vss_classify {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

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

}  // namespace

int run_classify(const std::vector<std::string>& args) {
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

}  // namespace vss_classify
