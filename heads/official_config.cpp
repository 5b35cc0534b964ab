#include "heads/official_config.h"

#include "core/error.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace vss {

namespace {

struct OfficialModel {
  std::string kind;
  std::vector<std::string> ignored;
  std::vector<std::pair<std::string, std::string>> defaults;  // official, where ours differ
};

const std::vector<std::string> kRestorerIgnored{"img_size",       "patch_size",  "drop_rate", "drop_path_rate",
                                                "use_checkpoint", "dynamic_ids", "batch_size"};

const std::vector<OfficialModel>& official_models() {
  static const std::vector<OfficialModel> models{
      {"mambair", kRestorerIgnored, {{"embed_dim", "96"}, {"upscale", "2"}}},
      {"mair", kRestorerIgnored,
       {{"ssm_ratio", "1.5"}, {"upscale", "2"}, {"upsampler", "pixelshuffledirect"}}},
      {"mambabcd", {"pretrained", "num_classes", "ssm_rank_ratio"}, {}},
      {"mambascd", {"pretrained", "num_classes", "ssm_rank_ratio", "output_cd", "output_clf"}, {}},
  };
  return models;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The restorers' denoising spellings: no upsampler (MambaIR's default ""), "" or null (MaIR's
// `~`); the official code then reads no upscale.
void normalise_denoising(Config& node) {
  if (node.has("upsampler") && !node["upsampler"].is_null() && !node.get<std::string>("upsampler").empty()) return;
  node.apply_override("upsampler=none");
  node.apply_override("upscale=1");
}

}  // namespace

Config official_model_config(const std::string& kind, const Config& kwargs, int64_t decoder_channels) {
  const auto& models = official_models();
  const auto model = std::find_if(models.begin(), models.end(), [&](const OfficialModel& m) { return m.kind == kind; });
  if (model == models.end())
    throw Error("unknown official model kind '" + kind + "' (known: mambair, mair, mambabcd, mambascd)");
  if (!kwargs.is_map()) kwargs.fail("expected the official constructor's keyword arguments (a map)");

  Config node = Config::parse("{}", "<" + kind + " official config>");
  const bool semantic = kind == "mambascd", change = semantic || kind == "mambabcd";
  node.apply_override(change ? (semantic ? "type=mamba_scd" : "type=mamba_bcd") : "type=" + kind);
  if (semantic) {
    // STMambaSCD's heads: the change head is binary in our model; output_clf is the class count.
    if (kwargs.has("output_cd") && kwargs.get<int64_t>("output_cd") != 2)
      kwargs["output_cd"].fail("the change head must have 2 outputs (unchanged, changed)");
    if (kwargs.has("output_clf")) node.set("semantic_classes", kwargs["output_clf"]);
  }
  if (change) {
    node.apply_override("encoder.type=vssm_backbone");
    node.apply_override("decoder.channels=" + std::to_string(decoder_channels));
  }
  // The keywords go to the encoder or the whole model; copies keep their place in the official
  // config, which errors then name.
  Config target = change ? node["encoder"] : node;
  for (const auto& [key, value] : model->defaults) target.apply_override(key + "=" + value);
  for (const std::string& key : kwargs.keys())
    if (!contains(model->ignored, key)) target.set(key, kwargs[key]);
  if (change && kwargs.has("forward_type") && kwargs.get<std::string>("forward_type") == "v3noz")
    node.apply_override("encoder.forward_type=v05_noz");
  if (!change) normalise_denoising(node);
  return node;
}

}  // namespace vss
