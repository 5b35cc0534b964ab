// vss-restore's per-image run (heads/restore/restore_run.h) without the binary: a random tiny
// MambaIR on a synthetic image writes a file of the enlarged size equal to the network run
// directly on the image, tiles when asked (equal to tiled_forward), names the output with the
// suffix, turns grey images through an RGB network back to grey, and a missing input is an
// error naming the file with nothing written.
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "datasets/image_tensor.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/restore_run.h"
#include "heads/restore/tiled_inference.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

namespace vss::test {
namespace {

namespace fs = std::filesystem;

class RestoreRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("vss_restore_run");
    torch::manual_seed(3);
    net_ = restore::make_restoration_net(Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml")["model"]);
    net_->eval();
    // PNM: the codec every build has.
    image_ = torch::randint(0, 256, {13, 10, 3}, torch::kByte);
    input_ = (dir_ / "photo.ppm").string();
    write_image(input_, image_);
  }
  void TearDown() override { remove_tree(dir_); }

  restore::RestoreOptions options() const {
    restore::RestoreOptions o;
    o.tile.tile = 0;
    o.out_dir = dir_ / "out";
    fs::create_directories(o.out_dir);
    return o;
  }

  fs::path dir_;
  restore::RestorationNet net_{nullptr};
  at::Tensor image_;
  std::string input_;
};

TEST_F(RestoreRunTest, WritesTheNetworksOutputOfTheWholeImage) {
  c10::InferenceMode inference;
  restore::RestoreRun run(net_, options());
  const restore::RestoredImage r = run.restore(input_);

  const fs::path expected_path = dir_ / "out" / "photo.ppm";
  EXPECT_EQ(r.output, expected_path);
  ASSERT_TRUE(fs::exists(expected_path));
  const at::Tensor written = read_image(expected_path.string(), ImageMode::kUnchanged);
  EXPECT_EQ(written.sizes(), (std::vector<int64_t>{26, 20, 3}));
  EXPECT_EQ(written.scalar_type(), at::kByte);
  EXPECT_EQ(r.tiles, 1);
  EXPECT_TRUE(r.note.empty());

  const at::Tensor direct = float_to_image(net_->forward(image_to_float(image_).unsqueeze(0))[0], at::kByte);
  EXPECT_GT(std::get<0>(at::_unique(direct)).numel(), 100);  // not a saturated image: the comparison has teeth
  EXPECT_TRUE(torch::equal(written, direct));
  EXPECT_TRUE(torch::equal(r.restored, direct));
}

TEST_F(RestoreRunTest, TilesAsTiledForwardAndNamesTheOutputWithTheSuffix) {
  c10::InferenceMode inference;
  restore::RestoreOptions o = options();
  o.tile = {8, 4, restore::TileBlend::kSeam};
  o.suffix = "x2";
  o.ext = "png";
  if (!image_format_available(".png")) o.ext = "auto";
  restore::RestoreRun run(net_, o);
  const restore::RestoredImage r = run.restore(input_);

  EXPECT_EQ(r.output.filename().string(), o.ext == "png" ? "photo_x2.png" : "photo_x2.ppm");
  ASSERT_TRUE(fs::exists(r.output));
  EXPECT_GT(r.tiles, 1);
  const at::Tensor tiled = restore::tiled_forward([&](const at::Tensor& x) { return net_->forward(x); },
                                                  image_to_float(image_).unsqueeze(0), 2, o.tile);
  const at::Tensor written = read_image(r.output.string(), ImageMode::kUnchanged);
  EXPECT_TRUE(torch::equal(written, float_to_image(tiled[0], at::kByte)));
}

TEST_F(RestoreRunTest, GreyThroughAnRgbNetworkComesBackGrey) {
  c10::InferenceMode inference;
  const std::string grey = (dir_ / "grey.pgm").string();
  const at::Tensor image = image_.select(2, 1).unsqueeze(2).contiguous();
  write_image(grey, image);
  restore::RestoreRun run(net_, options());
  const restore::RestoreInput in = run.read(grey);
  EXPECT_TRUE(in.grey_to_rgb);
  const restore::RestoredImage r = run.run(in);
  run.write(r);

  const at::Tensor written = read_image(r.output.string(), ImageMode::kUnchanged);
  EXPECT_EQ(written.sizes(), (std::vector<int64_t>{26, 20, 1}));
  // The RGB result's BT.601 luma, from the replicated grey input.
  const at::Tensor rgb = net_->forward(image_to_float(image).expand({3, -1, -1}).unsqueeze(0))[0];
  const at::Tensor luma = (rgb.clamp(0, 1) * torch::tensor({0.299f, 0.587f, 0.114f}).view({3, 1, 1})).sum(0, true);
  EXPECT_TRUE(torch::equal(written, float_to_image(luma, at::kByte)));
}

TEST_F(RestoreRunTest, AMissingInputIsAnErrorNamingItAndWritesNothing) {
  c10::InferenceMode inference;
  restore::RestoreRun run(net_, options());
  const std::string missing = (dir_ / "nowhere.ppm").string();
  const std::string error = error_of([&] { run.restore(missing); });
  EXPECT_NE(error.find(missing), std::string::npos) << error;
  EXPECT_NE(error.find("cannot open image"), std::string::npos) << error;
  EXPECT_TRUE(fs::is_empty(dir_ / "out"));
}

}  // namespace
}  // namespace vss::test
