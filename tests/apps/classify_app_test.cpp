// vss-classify on the command line. Predictions: batches over folders, --json one object per
// image, weights for another head only with --non-strict or --num-classes, an undecodable
// image skipped with a warning naming it. eval: top-1 / top-5 / per-class accuracy equal the
// ones computed here from the per-image predictions, on an ImageFolder and on a flat folder
// with a labels file; bad input is one line naming the file. export: a trained run's weights
// carry the model config, class names and eval transform, so predictions print the names.
#include "backbones/backbone_registry.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "engine/trainer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <sstream>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

class ClassifyApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(app_path("vss-classify"))) GTEST_SKIP() << "vss-classify is built with OpenCV only";
    dir_ = make_temp_dir("vss_classify_app");
    config_ = (source_dir() / "configs/backbones/vss_tiny_test.yaml").string();
    image_ = (dir_ / "photo.png").string();
    torch::manual_seed(0);
    write_image(image_, torch::randint(0, 256, {40, 48, 3}, torch::kByte));
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  // Weights of the test network with `classes` outputs.
  std::string weights(int64_t classes) {
    Config c = Config::load(config_);
    c.apply_override("num_classes=" + std::to_string(classes));
    const std::string path = (dir_ / ("w" + std::to_string(classes) + ".safetensors")).string();
    save_weights(*make_backbone(c), path);
    return path;
  }
  // An ImageFolder `name`/<class>/<i>.png of `per_class` random images for each class.
  fs::path folder(const std::string& name, const std::vector<std::string>& classes, int per_class) {
    for (const auto& c : classes)
      for (int i = 0; i < per_class; ++i) {
        fs::create_directories(dir_ / name / c);
        write_image((dir_ / name / c / (std::to_string(i) + ".png")).string(),
                    torch::randint(0, 256, {36 + 4 * i, 40, 3}, torch::kByte));
      }
    return dir_ / name;
  }
  int classify(const std::vector<std::string>& extra, std::string* out) {
    std::vector<std::string> args{"--config", config_, "--size", "32", "--crop-pct", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_app_command("vss-classify", args, out);
  }
  int eval(const std::vector<std::string>& extra, std::string* out) {
    std::vector<std::string> args{"eval", "--config", config_, "--size", "32", "--crop-pct", "1", "--batch", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_app_command("vss-classify", args, out);
  }
  fs::path dir_;
  std::string config_, image_;
};

// The JSON lines of a prediction run.
std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST_F(ClassifyApp, NonStrictAllowsAnotherHeadOnly) {
  const std::string seven = weights(7);
  std::string out;
  ASSERT_EQ(classify({"--weights", seven, "--non-strict", image_}, &out), 0) << out;
  EXPECT_NE(out.find("warning: classifier.head.weight kept at its initial values"), std::string::npos) << out;
  EXPECT_NE(out.find("(class "), std::string::npos) << out;

  // Without --non-strict: one line naming the file and both counts, and how to go on.
  EXPECT_EQ(classify({"--weights", seven, image_}, &out), 1) << out;
  EXPECT_EQ(out, "vss-classify: " + seven +
                     ": its classifier head has 7 classes but the model has 10; pass --num-classes 7 (or --non-strict "
                     "for an untrained head)\n");
  ASSERT_EQ(classify({"--weights", seven, "--num-classes", "7", image_}, &out), 0) << out;

  // A tracker's weights: nothing fits, so nothing is predicted.
  const std::string tracker = (source_dir() / "weights/mtp_synth.safetensors").string();
  EXPECT_EQ(classify({"--weights", tracker, "--non-strict", image_}, &out), 1) << out;
  EXPECT_EQ(out.rfind("vss-classify: " + tracker + ": weights do not fit the model (", 0), 0u) << out;
  EXPECT_NE(out.find("only the classifier head may differ"), std::string::npos) << out;
  EXPECT_NE(out.find("missing: patch_embed.0.weight [2, 3, 3, 3]"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

TEST_F(ClassifyApp, UndecodableImagesAreSkippedWithAWarning) {
  const std::string w = weights(10);
  const std::string big = (dir_ / "big.png").string(), broken = (dir_ / "broken.jpg").string();
  std::ofstream(big, std::ios::binary) << png_claiming_size(100000, 100000);
  std::ofstream(broken, std::ios::binary) << "garbage";
  std::string out;
  ASSERT_EQ(classify({"--weights", w, "--json", dir_.string()}, &out), 0) << out;
  EXPECT_NE(out.find("vss-classify: warning: skipping " + big + ": image too large"), std::string::npos) << out;
  EXPECT_NE(out.find("vss-classify: warning: skipping " + broken + ": cannot"), std::string::npos) << out;
  EXPECT_NE(out.find("classified 1 image(s), 2 unreadable skipped"), std::string::npos) << out;
  const auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(lines[0]["file"], image_);
  EXPECT_EQ(lines[0]["top"].size(), 5u);
  // Nothing readable at all: an error.
  EXPECT_EQ(classify({"--weights", w, big}, &out), 1) << out;
  EXPECT_NE(out.find("vss-classify: no image could be read (1 given)"), std::string::npos) << out;
}

TEST_F(ClassifyApp, EvalMatchesTheAccuracyOfThePredictions) {
  const std::vector<std::string> classes{"a", "b", "c", "d", "e", "f"};
  const fs::path val = folder("val", classes, 2);
  std::ofstream(val / "c/broken.png", std::ios::binary) << "not a png";
  const std::string w = weights(6);
  std::string out;
  ASSERT_EQ(classify({"--weights", w, "--num-classes", "6", "--json", "--batch", "4", val.string()}, &out), 0) << out;
  // top-1 / top-5 and per-class top-1 from the per-image predictions.
  int64_t hit1 = 0, hit5 = 0, n = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> per_class;  // label -> (images, top-1 hits)
  for (const auto& line : json_lines(out)) {
    const std::string truth = fs::path(line["file"].get<std::string>()).parent_path().filename().string();
    const int64_t label = std::find(classes.begin(), classes.end(), truth) - classes.begin();
    ++n;
    const bool first = line["top"][0]["class"] == label;
    hit1 += first;
    per_class[truth].first += 1;
    per_class[truth].second += first;
    for (const auto& t : line["top"]) hit5 += t["class"] == label;
  }
  ASSERT_EQ(n, 12);
  ASSERT_EQ(eval({"--weights", w, "--num-classes", "6", "--data", val.string(), "--json"}, &out), 0) << out;
  EXPECT_NE(out.find("warning: skipping " + (val / "c/broken.png").string()), std::string::npos) << out;
  const auto j = json_of(out);
  EXPECT_EQ(j["images"], 12);
  EXPECT_EQ(j["unreadable"], nlohmann::json::array({(val / "c/broken.png").string()}));
  EXPECT_DOUBLE_EQ(j["mean"]["top1"].get<double>(), static_cast<double>(hit1) / 12.0);
  EXPECT_DOUBLE_EQ(j["mean"]["top5"].get<double>(), static_cast<double>(hit5) / 12.0);
  ASSERT_EQ(j["per_class"].size(), 6u);
  for (const auto& row : j["per_class"]) {
    const auto& [images, hits] = per_class[row["label"].get<std::string>()];
    EXPECT_EQ(row["images"], images);
    EXPECT_DOUBLE_EQ(row["top1"].get<double>(), static_cast<double>(hits) / static_cast<double>(images));
  }

  // The same images as ImageNet's flat validation folder: a labels file naming classes by
  // the names --classes gives the model's outputs.
  fs::create_directories(dir_ / "flat");
  std::ofstream labels(dir_ / "flat_labels.txt"), names(dir_ / "names.txt");
  for (const auto& c : classes) {
    names << c << "\n";
    for (int i = 0; i < 2; ++i) {
      fs::copy_file(val / c / (std::to_string(i) + ".png"), dir_ / "flat" / (c + std::to_string(i) + ".png"));
      labels << c << i << ".png " << c << "\n";
    }
  }
  labels.close();
  names.close();
  ASSERT_EQ(eval({"--weights", w, "--num-classes", "6", "--data", (dir_ / "flat").string(), "--labels",
                  (dir_ / "flat_labels.txt").string(), "--classes", (dir_ / "names.txt").string(), "--json"},
                 &out),
            0)
      << out;
  EXPECT_DOUBLE_EQ(json_of(out)["mean"]["top1"].get<double>(), static_cast<double>(hit1) / 12.0);
  EXPECT_DOUBLE_EQ(json_of(out)["mean"]["top5"].get<double>(), static_cast<double>(hit5) / 12.0);
}

TEST_F(ClassifyApp, EvalBadInputIsOneLineNamingTheFile) {
  const fs::path val = folder("val", {"a", "b"}, 1);
  const std::string w = weights(2);
  std::string out;
  // Folders without class names must match the model's outputs in number.
  EXPECT_EQ(eval({"--weights", weights(3), "--num-classes", "3", "--data", val.string()}, &out), 1) << out;
  EXPECT_EQ(out, "vss-classify: " + val.string() +
                     ": has 2 class folders but the model has 3 classes; name the model's classes in order with "
                     "--classes FILE\n");
  // A class the names do not hold.
  std::ofstream(dir_ / "names.txt") << "a\nz\n";
  EXPECT_EQ(eval({"--weights", w, "--num-classes", "2", "--data", val.string(), "--classes", (dir_ / "names.txt").string()},
                 &out),
            1);
  EXPECT_EQ(out, "vss-classify: " + (val / "b").string() + ": class 'b' is not one of the 2 training classes\n");
  // A labels file line naming no image.
  std::ofstream(dir_ / "labels.txt") << "0.png 1\nmissing.png 0\n";
  EXPECT_EQ(eval({"--weights", w, "--num-classes", "2", "--data", (val / "a").string(), "--labels",
                  (dir_ / "labels.txt").string()},
                 &out),
            1);
  EXPECT_EQ(out, "vss-classify: " + (dir_ / "labels.txt").string() + ":2: no image 'missing.png' in " + (val / "a").string() +
                     "\n");
  // An empty class folder.
  fs::create_directories(val / "c");
  EXPECT_EQ(eval({"--weights", w, "--num-classes", "2", "--data", val.string()}, &out), 1);
  EXPECT_EQ(out.rfind("vss-classify: " + (val / "c").string() + ": class folder holds no images", 0), 0u) << out;
  // Devices: bf16 needs CUDA (usage error), CUDA needs a GPU.
  EXPECT_EQ(eval({"--weights", w, "--data", val.string(), "--dtype", "bf16"}, &out), 2) << out;
  EXPECT_NE(out.find("--dtype bf16 needs --device cuda"), std::string::npos) << out;
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(eval({"--weights", w, "--data", val.string(), "--device", "cuda"}, &out), 1) << out;
    EXPECT_EQ(out, "vss-classify: --device cuda: no CUDA device is available\n");
  }
}

TEST_F(ClassifyApp, ExportedWeightsCarryClassNamesAndTransform) {
  folder("data/train", {"ant", "bee"}, 2);
  folder("data/val", {"ant", "bee"}, 1);
  Config c = Config::parse("task: {type: classification}\n"
                           "data: {type: image_folder, root: '" + (dir_ / "data").string() + "', train: {}, val: {},\n"
                           "       pipeline: {size: 24, crop_pct: 0.75, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}}\n"
                           "optimizer: {type: adamw, lr: 0.001}\n"
                           "train: {steps: 1, batch_size: 2}\n");
  Config model = Config::load(config_);
  model.apply_override("num_classes=2");
  c.set("model", model);
  TrainerOptions options;
  options.run_dir = dir_ / "run";
  options.progress = false;
  train(c, options);
  const std::string exported = (dir_ / "exported.safetensors").string();
  std::string out;
  ASSERT_EQ(run_app_command("vss-classify", {"export", "--run", options.run_dir.string(), "--out", exported}, &out), 0) << out;
  EXPECT_NE(out.find("wrote " + exported), std::string::npos) << out;
  // No --config, --size or class names: all from the weights.
  ASSERT_EQ(run_app_command("vss-classify", {"--weights", exported, "--json", image_}, &out), 0) << out;
  const auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  const std::string top = lines[0]["top"][0]["label"];
  EXPECT_TRUE(top == "ant" || top == "bee") << out;
  ASSERT_EQ(run_app_command("vss-classify", {"eval", "--weights", exported, "--data", (dir_ / "data/val").string(), "--json"},
                            &out),
            0)
      << out;
  EXPECT_EQ(json_of(out)["images"], 2);
  EXPECT_EQ(json_of(out)["per_class"][1]["label"], "bee");
}

// The bundled demo model on the held-out digits tools/make_digits.py writes (needs scikit-learn):
// the top-1 weights/digits_vssm.md states (1.0000), within one image for other CPUs' rounding.
TEST_F(ClassifyApp, BundledDigitsModelScoresTheStatedTop1) {
  if (!python_has({"sklearn", "PIL"})) GTEST_SKIP() << "python scikit-learn + Pillow not available";
  std::string out;
  ASSERT_EQ(run_python("import runpy, sys\n"
                       "sys.argv = sys.argv[1:]\n"
                       "runpy.run_path(sys.argv[0], run_name='__main__')",
                       {(source_dir() / "tools/make_digits.py").string(), (dir_ / "digits").string()}, &out),
            0)
      << out;
  EXPECT_NE(out.find("wrote 1347 training and 450 held-out digits"), std::string::npos) << out;
  ASSERT_EQ(run_app_command("vss-classify", {"eval", "--weights", (source_dir() / "weights/digits_vssm.safetensors").string(),
                                             "--data", (dir_ / "digits/val").string(), "--json"},
                            &out),
            0)
      << out;
  const auto j = json_of(out);
  EXPECT_EQ(j["images"], 450);
  EXPECT_GE(j["mean"]["top1"].get<double>(), 449.0 / 450.0);
  EXPECT_EQ(j["per_class"][7]["label"], "7");
}

}  // namespace
}  // namespace vss::test
