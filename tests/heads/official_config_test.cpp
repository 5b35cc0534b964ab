// official_model_config: the official constructors' keywords, as the published configs write
// them, become models our readers accept, with the official defaults and spellings.
#include "backbones/vssm_options.h"
#include "heads/official_config.h"
#include "heads/restore/restoration_net.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

namespace vss::test {
namespace {

restore::RestorationNetOptions restorer(const std::string& kind, const std::string& kwargs) {
  return restore::restoration_options_from_config(official_model_config(kind, Config::parse(kwargs)));
}

TEST(OfficialConfig, MambaIRKeysTheForwardIgnoresAreDroppedAndItsDefaultsApply) {
  // MambaIR's JPEG network_g (test_MambaIR_CAR_q10.yml) without the type: no upsampler given.
  const auto o = restorer("mambair", "{upscale: 1, in_chans: 1, img_size: 126, d_state: 16, depths: [6, 6], "
                                     "mlp_ratio: 1.2, drop_path_rate: 0.1, patch_size: 1, use_checkpoint: false}");
  EXPECT_FALSE(o.mair);
  EXPECT_EQ(o.embed_dim, 96);  // the official default, not ours
  EXPECT_EQ(o.in_chans, 1);
  EXPECT_EQ(o.upsampler, "none");
  EXPECT_EQ(o.upscale, 1);
  EXPECT_DOUBLE_EQ(o.mlp_ratio, 1.2);
  EXPECT_EQ(restorer("mambair", "{}").upscale, 1);  // denoising by default: upscale 2 is unread
  EXPECT_EQ(restorer("mambair", "{upsampler: pixelshuffle}").upscale, 2);
}

TEST(OfficialConfig, MaIRDefaultsAndItsNullUpsampler) {
  const auto light = restorer("mair", "{embed_dim: 20, img_size: 64, dynamic_ids: false, batch_size: 1}");
  EXPECT_TRUE(light.mair);
  EXPECT_DOUBLE_EQ(light.ssm.ssm_ratio, 1.5);
  EXPECT_EQ(light.upsampler, "pixelshuffledirect");
  EXPECT_EQ(light.upscale, 2);
  EXPECT_EQ(light.scan_len, 8);
  // MaIR's colour denoising network_g says `upsampler: ~` next to `upscale: 1`.
  const auto denoise = restorer("mair", "{upscale: 4, upsampler: ~, scan_len: 4}");
  EXPECT_EQ(denoise.upsampler, "none");
  EXPECT_EQ(denoise.upscale, 1);
  EXPECT_EQ(denoise.scan_len, 4);
}

TEST(OfficialConfig, STMambaBCDKeywordsBecomeTheEncoderAndV3nozIsV05noz) {
  const Config node = official_model_config(
      "mambabcd",
      Config::parse(R"({"pretrained": null, "num_classes": 1000, "ssm_rank_ratio": 2.0, "depths": [2, 2, 4, 2],
                        "dims": 96, "forward_type": "v3noz", "norm_layer": "ln2d"})"),
      32);
  EXPECT_EQ(node.get<std::string>("type"), "mamba_bcd");
  EXPECT_EQ(node.get<int64_t>("decoder.channels"), 32);
  EXPECT_FALSE(node.has("encoder.pretrained"));
  EXPECT_FALSE(node.has("encoder.ssm_rank_ratio"));
  const VSSMOptions enc = vssm_options_from_config(node["encoder"]);
  EXPECT_EQ(enc.ssm.forward_type, "v05_noz");
  EXPECT_FALSE(enc.ssm.gated);
  EXPECT_EQ(enc.dims, (std::vector<int64_t>{96, 192, 384, 768}));
  EXPECT_EQ(enc.norm_layer, "ln2d");
  EXPECT_EQ(official_model_config("mambabcd", Config::parse("{}")).get<int64_t>("decoder.channels"), 128);
}

TEST(OfficialConfig, STMambaSCDKeywordsAsSTMambaBCDsPlusTheClassCount) {
  const Config node = official_model_config(
      "mambascd",
      Config::parse(R"({"output_cd": 2, "output_clf": 5, "pretrained": null, "num_classes": 1000, "depths": [1, 1, 1, 1],
                        "dims": 16, "forward_type": "v3noz"})"),
      32);
  EXPECT_EQ(node.get<std::string>("type"), "mamba_scd");
  EXPECT_EQ(node.get<int64_t>("semantic_classes"), 5);
  EXPECT_EQ(node.get<int64_t>("decoder.channels"), 32);
  EXPECT_FALSE(node.has("encoder.output_cd"));
  EXPECT_FALSE(node.has("encoder.output_clf"));
  EXPECT_EQ(vssm_options_from_config(node["encoder"]).ssm.forward_type, "v05_noz");
  // Our change head is binary: another output_cd is named, in the official config.
  const std::string error =
      error_of([] { official_model_config("mambascd", Config::parse("output_cd: 3\n", "scd.yml")); });
  EXPECT_NE(error.find("scd.yml:1: output_cd: the change head must have 2 outputs"), std::string::npos) << error;
}

TEST(OfficialConfig, WhatOursDoesNotSupportIsNamed) {
  EXPECT_NE(error_of([] { official_model_config("mambabda", Config::parse("{}")); })
                .find("unknown official model kind 'mambabda'"),
            std::string::npos);
  // Errors point into the official config, on one line.
  const std::string unsupported = error_of([] {
    restore::restoration_options_from_config(
        official_model_config("mambair", Config::parse("upscale: 4\nresi_connection: 3conv\n", "network_g.yml")));
  });
  EXPECT_EQ(unsupported.rfind("network_g.yml:2: resi_connection: only '1conv' is supported", 0), 0u) << unsupported;
  EXPECT_EQ(unsupported.find('\n'), std::string::npos) << unsupported;
  EXPECT_NE(error_of([] { restorer("mair", "{patch_norm: false}"); }).find("unknown key 'patch_norm'"), std::string::npos);
}

}  // namespace
}  // namespace vss::test
