// vss-classify on the command line, for what --non-strict may load: weights for another number
// of classes load with a warning that the head stays untrained; a tracker's weights into a
// backbone (every key missing or unexpected) are an error listing a few keys of each kind and
// their counts, exit code 1 and no predictions. A header beyond OpenCV's limits names the file.
#include "backbones/backbone_registry.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

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
    write_image(image_, torch::randint(0, 256, {40, 48, 3}, torch::kByte));
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }
  int classify(const std::string& weights, const std::string& config, std::string* out) {
    return run_app_command("vss-classify", {"--config", config, "--weights", weights, "--non-strict", "--resize", "32",
                                            "--crop", "32", image_},
                           out);
  }
  fs::path dir_;
  std::string config_, image_;
};

TEST_F(ClassifyApp, NonStrictAllowsAnotherHeadOnly) {
  // Weights of the same network for 7 classes into the config's 10.
  Config seven = Config::load(config_);
  seven.apply_override("num_classes=7");
  const std::string weights = (dir_ / "seven.safetensors").string();
  save_weights(*make_backbone(seven), weights);
  std::string out;
  ASSERT_EQ(classify(weights, config_, &out), 0) << out;
  EXPECT_NE(out.find("warning: classifier.head.weight kept at its initial values"), std::string::npos) << out;
  EXPECT_NE(out.find("(class "), std::string::npos) << out;

  // A tracker's weights: nothing fits, so nothing is predicted.
  const std::string tracker = (source_dir() / "weights/mtp_synth.safetensors").string();
  EXPECT_EQ(classify(tracker, config_, &out), 1) << out;
  EXPECT_EQ(out.rfind("vss-classify: " + tracker + ": weights do not fit the model (", 0), 0u) << out;
  EXPECT_NE(out.find("only the classifier head may differ"), std::string::npos) << out;
  EXPECT_NE(out.find("missing: patch_embed.0.weight [2, 3, 3, 3]"), std::string::npos) << out;
  EXPECT_NE(out.find(" in all)"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.find("(class "), std::string::npos) << out;
}

TEST_F(ClassifyApp, AHeaderBeyondTheDecoderLimitsNamesTheFile) {
  const std::string weights = (dir_ / "w.safetensors").string();
  save_weights(*make_backbone(Config::load(config_)), weights);
  std::ofstream(image_, std::ios::binary | std::ios::trunc) << png_claiming_size(100000, 100000);
  std::string out;
  EXPECT_EQ(classify(weights, config_, &out), 1) << out;
  EXPECT_EQ(out.rfind("vss-classify: " + image_ + ": image too large", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

}  // namespace
}  // namespace vss::test
