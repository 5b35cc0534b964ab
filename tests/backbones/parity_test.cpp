// Parity with the official VMamba (../shared/parity, README there): every case file under
// ss2d/ and vssm/ is rebuilt from its `config` metadata, loaded with its official state_dict
// (strictly) and run on CPU in float32; every stored output must match within 1e-4.
// Both scan paths are checked: the fused plan-driven op and the unfused oracle.
#include "backbones/ss2d.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/safetensors.h"
#include "tests/support/parity_check.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

struct Case {
  SafetensorsFile file;
  Config config;
  std::string stem;
};

Case open_case(const std::filesystem::path& path, const std::string& kind_prefix) {
  Case c{read_safetensors(path), Config::parse("{}"), path.stem().string()};
  EXPECT_EQ(c.file.metadata.at("kind").rfind(kind_prefix, 0), 0u) << path;
  c.config = Config::parse(c.file.metadata.at("config"), path.string() + " config");
  return c;
}

// Official layout of a map: channel-first when norm_layer is ln2d / bn, else channel-last.
at::Tensor to_channel_last(const at::Tensor& t, bool channel_first) {
  return channel_first ? t.permute({0, 2, 3, 1}) : t;
}

void expect_close(const std::string& label, const at::Tensor& ours, const at::Tensor& official) {
  test::expect_parity(label, ours, official, test::kCpuFloat32Parity);
}

const char* path_name(bool fused) { return fused ? "fused" : "unfused"; }

TEST(parity, ss2d) {
  const auto cases = test::parity_cases("ss2d");
  if (cases.empty()) GTEST_SKIP() << "skipped: no cases in " << (test::parity_dir() / "ss2d");
  torch::NoGradGuard no_grad;
  for (const auto& path : cases) {
    const Case c = open_case(path, "ss2d");
    const bool channel_first = c.config.get_or<bool>("channel_first", false);
    for (bool fused : {false, true}) {
      SS2DOptions options = ss2d_options_from_config(c.config);
      options.fused_scan = fused;
      SS2D layer(options);
      layer->eval();
      load_weights(*layer, path, /*strict=*/true, "state.");
      const at::Tensor y = layer->forward(to_channel_last(c.file.at("x"), channel_first));
      expect_close(c.stem + " [" + path_name(fused) + "] y", y,
                   to_channel_last(c.file.at("y"), channel_first));
    }
  }
}

TEST(parity, vssm) {
  const auto cases = test::parity_cases("vssm");
  if (cases.empty()) GTEST_SKIP() << "skipped: no cases in " << (test::parity_dir() / "vssm");
  torch::NoGradGuard no_grad;
  for (const auto& path : cases) {
    const Case c = open_case(path, "vssm");
    const bool dense = c.file.metadata.at("kind") == "vssm_backbone";
    const std::string norm = c.config.get_or<std::string>("norm_layer", "ln");
    const bool channel_first = norm == "ln2d" || norm == "bn";
    for (bool fused : {false, true}) {
      VSSMOptions options = vssm_options_from_config(c.config);
      options.ssm.fused_scan = fused;
      VSSM model(options, dense);
      model.eval();
      load_weights(model, path, /*strict=*/true, "state.");
      const at::Tensor input = c.file.at("input");
      const std::string label = c.stem + " [" + path_name(fused) + "] ";
      if (dense) {
        const auto outs = model.forward_features(input);
        for (size_t i = 0; i < outs.size(); ++i)
          expect_close(label + "out." + std::to_string(i), outs[i], c.file.at("out." + std::to_string(i)));
        continue;
      }
      const VSSM::Trace t = model.trace(input);
      expect_close(label + "patch_embed", t.patch_embed, to_channel_last(c.file.at("patch_embed"), channel_first));
      for (size_t i = 0; i < t.stages.size(); ++i) {
        const std::string key = "stage." + std::to_string(i);
        expect_close(label + key, t.stages[i], to_channel_last(c.file.at(key), channel_first));
      }
      expect_close(label + "logits", model.forward(input), c.file.at("logits"));
    }
  }
}

}  // namespace
}  // namespace vss
