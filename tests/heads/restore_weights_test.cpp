// Restoration weights: the scale, upsampler, channels and width read back from the tensor
// shapes of every released layout (classic x2/x3/x4, lightweight x2/x4, denoising; MaIR),
// weights for another scale refused with an error that names both scales and the tensor, and
// a save / load round trip that keeps the config in the metadata.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/restoration_weights.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

Config model_config(const std::string& name, const std::vector<std::string>& overrides = {}) {
  Config c = Config::load(source_dir() / "configs/restore" / name)["model"];
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

restore::RestorationLayout layout_of(const Config& model) {
  auto net = restore::make_restoration_net(model);
  return restore::layout_from_state(model_state(*net), "w.safetensors");
}

TEST(RestoreWeights, LayoutFromTensorShapes) {
  struct Case {
    const char* config;
    std::vector<std::string> overrides;
    int64_t scale;
    const char* upsampler;
  };
  // Small widths keep the classic nets quick to build; the layout does not depend on them.
  const std::vector<std::string> small{"embed_dim=30", "depths=[1]"};
  const Case cases[] = {
      {"mambair_light_x2.yaml", small, 2, "pixelshuffledirect"},
      {"mambair_light_x4.yaml", small, 4, "pixelshuffledirect"},
      {"mambair_classic_x4.yaml", small, 4, "pixelshuffle"},
      {"mambair_classic_x4.yaml", {"embed_dim=30", "depths=[1]", "upscale=2"}, 2, "pixelshuffle"},
      {"mambair_classic_x4.yaml", {"embed_dim=30", "depths=[1]", "upscale=3"}, 3, "pixelshuffle"},
      {"mambair_classic_x4.yaml", {"embed_dim=30", "depths=[1]", "upscale=8"}, 8, "pixelshuffle"},
      {"mambair_denoise_color.yaml", small, 1, "none"},
      {"mair_t_light_x4.yaml", small, 4, "pixelshuffledirect"},
      {"mambair_light_x2.yaml", {"embed_dim=30", "depths=[1]", "in_chans=1"}, 2, "pixelshuffledirect"},
  };
  for (const auto& c : cases) {
    const Config m = model_config(c.config, c.overrides);
    const auto l = layout_of(m);
    EXPECT_EQ(l.scale, c.scale) << c.config << " " << l.evidence;
    EXPECT_EQ(l.upsampler, c.upsampler) << c.config;
    EXPECT_EQ(l.embed_dim, 30) << c.config;
    EXPECT_EQ(l.in_chans, m.get_or<int64_t>("in_chans", 3)) << c.config;
    EXPECT_NO_THROW(restore::check_layout(restore::restoration_options_from_config(m), l, "w.safetensors"));
  }
}

TEST(RestoreWeights, WeightsForAnotherScaleAreRefusedByName) {
  const auto x4 = layout_of(model_config("mambair_light_x4.yaml", {"embed_dim=30", "depths=[1]"}));
  const auto x2_options = restore::restoration_options_from_config(model_config("mambair_tiny_test.yaml"));
  try {
    restore::check_layout(x2_options, x4, "light_x4.safetensors");
    ADD_FAILURE() << "x4 weights accepted by an x2 config";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("light_x4.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find("weights are for x4"), std::string::npos) << m;
    EXPECT_NE(m.find("upsample.0.weight [48, 30, 3, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("builds x2"), std::string::npos) << m;
  }
  const auto denoise = layout_of(model_config("mambair_denoise_color.yaml", {"embed_dim=30", "depths=[1]"}));
  EXPECT_THROW(restore::check_layout(x2_options, denoise, "dn.safetensors"), Error);
  const auto wide = layout_of(model_config("mambair_light_x2.yaml", {"depths=[1]"}));  // 60 channels
  EXPECT_THROW(restore::check_layout(x2_options, wide, "wide.safetensors"), Error);
  EXPECT_THROW(restore::layout_from_state({{"conv.weight", torch::zeros({3})}}, "x.safetensors"), Error);
}

TEST(RestoreWeights, SaveAndLoadKeepTheConfig) {
  const auto dir = make_temp_dir("vss-restore-weights");
  const Config root = Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml");
  torch::manual_seed(0);
  auto net = restore::make_restoration_net(root["model"]);
  const Config deg = root["degradation"], metrics = root["metrics"];
  const std::string yaml = restore::restore_config_yaml(root["model"], &deg, &metrics);
  const auto file = dir / "tiny.safetensors";
  restore::save_restoration_weights(*net, yaml, file);
  const auto meta = restore::restore_metadata(file);
  ASSERT_TRUE(meta.has_value());
  const Config back = Config::parse(*meta);
  EXPECT_EQ(back["model"].dump(), root["model"].dump());
  EXPECT_EQ(back.get<int64_t>("degradation.scale"), 2);
  EXPECT_EQ(back.get<int64_t>("metrics.crop_border"), 2);

  torch::manual_seed(1);
  auto other = restore::make_restoration_net(back["model"]);
  restore::load_restoration_weights(*other, read_safetensors(file).tensors, file.string());
  const at::Tensor x = torch::rand({1, 3, 9, 7});
  torch::NoGradGuard no_grad;
  EXPECT_EQ(max_abs_diff(other->forward(x), net->forward(x)), 0.0);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
