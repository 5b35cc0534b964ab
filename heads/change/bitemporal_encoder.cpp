#include "heads/change/bitemporal_encoder.h"

#include "core/config.h"
#include "core/error.h"

#include <torch/torch.h>

#include <numeric>

namespace vss::change {

ChangeModelOptions read_change_model_options(const Config& node) {
  ChangeModelOptions o;
  const Config enc = node["encoder"];
  if (enc.get<std::string>("type") != "vssm_backbone")
    enc["type"].fail("the change encoder must be a dense backbone (type: vssm_backbone)");
  o.encoder = vssm_options_from_config(enc);
  std::vector<int64_t> all_stages(o.encoder.depths.size());
  std::iota(all_stages.begin(), all_stages.end(), 0);
  if (o.encoder.out_indices != all_stages)
    enc["out_indices"].fail("the change decoders need every stage's map (leave out_indices out)");
  if (node.has("decoder")) {
    const Config dec = node["decoder"];
    dec.check_keys({"channels", "drop_path"});
    o.channels = dec.get_int_in_or("channels", o.channels, 1, kMaxChannels);
    o.drop_path = dec.get_or<double>("drop_path", o.drop_path);
    if (o.drop_path < 0 || o.drop_path >= 1) dec["drop_path"].fail("must be in [0, 1)");
  }
  return o;
}

DateFeatures encode_dates(VSSM& encoder, const at::Tensor& pre, const at::Tensor& post, const std::string& model) {
  if (pre.sizes() != post.sizes())
    throw Error(model + ": the two dates differ in shape: " + shape_to_string(pre.sizes().vec()) + " vs " +
                shape_to_string(post.sizes().vec()));
  DateFeatures f;
  if (encoder.options().norm_layer == "bn") {
    // BatchNorm statistics per date, as the reference's two encoder calls.
    f.pre = encoder.forward_features(pre);
    f.post = encoder.forward_features(post);
    return f;
  }
  // Norms act per sample: one encoder pass over both dates is the same computation.
  for (const auto& both : encoder.forward_features(torch::cat({pre, post}))) {
    const auto halves = both.chunk(2);
    f.pre.push_back(halves[0]);
    f.post.push_back(halves[1]);
  }
  return f;
}

at::Tensor normalize_input(const at::Tensor& rgb) {
  if (rgb.dim() < 3 || rgb.size(-3) != 3) throw_shape_error("change model input", {3, -1, -1}, rgb.sizes().vec());
  const auto mean = torch::tensor({123.675f, 116.28f, 103.53f}).view({3, 1, 1});
  const auto std = torch::tensor({58.395f, 57.12f, 57.375f}).view({3, 1, 1});
  return (rgb.to(torch::kFloat) - mean.to(rgb.device())) / std.to(rgb.device());
}

}  // namespace vss::change
