#include "backbones/vssm_options.h"

#include "backbones/activation.h"
#include "core/config.h"
#include "kernels/selective_scan_checks.h"
#include "scans/scan_strategy.h"

#include <algorithm>

namespace vss {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string one_of(const Config& node, const std::string& key, const std::string& fallback,
                   const std::vector<std::string>& allowed) {
  if (!node.has(key)) return fallback;
  const std::string value = lower(node.get<std::string>(key));
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
    node[key].fail("unsupported value '" + value + "' (supported: " + join(allowed) + ")");
  return value;
}

// v05 / v2 cores with an optional `_noz` suffix (the same math; they differ only in the
// dtype the official scan reads, and ours always reads float32); other variants are not built.
void parse_forward_type(const Config& node, const std::string& key, SS2DOptions& o) {
  o.forward_type = node.get_or<std::string>(key, "v2");
  std::string core = o.forward_type;
  o.gated = true;
  if (core.size() > 4 && core.compare(core.size() - 4, 4, "_noz") == 0) {
    o.gated = false;
    core.resize(core.size() - 4);
  }
  if (core != "v05" && core != "v2")
    node[key].fail("unsupported forward_type '" + o.forward_type +
                   "' (supported: v05, v05_noz, v2, v2_noz)");
}

// A width multiplier: ratios beyond this are typos that only surface as failed allocations.
constexpr double kMaxRatio = 64;

void require_ratio(const Config& node, const std::string& key, double value, double lowest) {
  if (!(value >= lowest && value <= kMaxRatio))
    node[key].fail("must be in " + std::to_string(lowest) + ".." + std::to_string(kMaxRatio) + ", got " +
                   std::to_string(value));
}

void require_rate(const Config& node, const std::string& key, double value) {
  if (value < 0 || value >= 1) node[key].fail("must be in [0, 1), got " + std::to_string(value));
}

ScanPathChoice path_choice_of(const Config& node, const std::string& key, ScanPathChoice fallback) {
  if (!node.has(key)) return fallback;
  const std::string v = one_of(node, key, "auto", {"auto", "always", "never"});
  return v == "always" ? ScanPathChoice::kAlways
         : v == "never" ? ScanPathChoice::kNever
                        : ScanPathChoice::kAuto;
}

}  // namespace

bool SS2DOptions::channels_last_scan_for(int64_t batch, int64_t tokens) const {
  switch (channels_last_scan) {
    case ScanPathChoice::kAlways: return true;
    case ScanPathChoice::kNever: return false;
    case ScanPathChoice::kAuto: break;
  }
  return tokens >= 16384 || batch * d_inner() >= 12288;
}

std::shared_ptr<ScanStrategy> default_scan_strategy() {
  return make_scan_strategy(Config::parse("type: cross", "default scan"));
}

void read_ss2d_keys(const Config& node, const SS2DKeys& keys, SS2DOptions& o) {
  if (keys.d_state) {
    o.d_state = node.get_int_in_or(keys.d_state, o.d_state, 1, kMaxChannels);
    if (o.d_state > kMaxCudaScanState)
      node[keys.d_state].fail("must be at most " + std::to_string(kMaxCudaScanState) +
                              " (the CUDA scan kernels keep the state in registers), got " + std::to_string(o.d_state));
  }
  if (keys.ssm_ratio) {
    o.ssm_ratio = node.get_or<double>(keys.ssm_ratio, o.ssm_ratio);
    if (!keys.ratio_may_be_zero && !(o.ssm_ratio > 0))
      node[keys.ssm_ratio].fail("must be positive, got " + std::to_string(o.ssm_ratio));
    require_ratio(node, keys.ssm_ratio, o.ssm_ratio, 0);
  }
  if (keys.dt_rank && node.has(keys.dt_rank) && node.get<std::string>(keys.dt_rank) != "auto")
    o.dt_rank = node.get_int_in_or(keys.dt_rank, 0, 1, kMaxChannels);
  if (keys.act_layer) o.act = one_of(node, keys.act_layer, o.act, activation_names());
  if (keys.d_conv) {
    o.d_conv = node.get_int_in_or(keys.d_conv, o.d_conv, -1, kMaxDepth);  // <= 1: no conv (official)
    if (o.d_conv > 1 && o.d_conv % 2 == 0) node[keys.d_conv].fail("must be odd, got " + std::to_string(o.d_conv));
  }
  if (keys.conv_bias) o.conv_bias = node.get_or<bool>(keys.conv_bias, o.conv_bias);
  if (keys.dropout) {
    o.dropout = node.get_or<double>(keys.dropout, o.dropout);
    require_rate(node, keys.dropout, o.dropout);
  }
  if (keys.forward_type) parse_forward_type(node, keys.forward_type, o);
  if (keys.scan) o.scan = node.has(keys.scan) ? make_scan_strategy(node[keys.scan]) : default_scan_strategy();
  if (keys.fused_scan) o.fused_scan = node.get_or<bool>(keys.fused_scan, o.fused_scan);
  if (keys.channels_last_scan)
    o.channels_last_scan = path_choice_of(node, keys.channels_last_scan, o.channels_last_scan);
  if (keys.sequence_scan) o.sequence_scan = path_choice_of(node, keys.sequence_scan, o.sequence_scan);
}

SS2DOptions ss2d_options_from_config(const Config& node) {
  node.check_keys({"d_model", "d_state", "ssm_ratio", "dt_rank", "act_layer", "d_conv", "conv_bias",
                   "dropout", "forward_type", "channel_first", "scan", "fused_scan",
                   "channels_last_scan", "sequence_scan"});
  SS2DOptions o;
  if (!node.has("d_model")) node.fail("missing required key 'd_model' (the layer's channels)");
  o.d_model = node.get_int_in_or("d_model", 0, 1, kMaxChannels);
  read_ss2d_keys(node,
                 {.d_state = "d_state", .ssm_ratio = "ssm_ratio", .dt_rank = "dt_rank", .act_layer = "act_layer",
                  .d_conv = "d_conv", .conv_bias = "conv_bias", .dropout = "dropout", .forward_type = "forward_type",
                  .scan = "scan", .fused_scan = "fused_scan", .channels_last_scan = "channels_last_scan",
                  .sequence_scan = "sequence_scan"},
                 o);
  node.get_or<bool>("channel_first", false);  // layout only: we compute channel-last inside
  return o;
}

VSSMOptions vssm_options_from_config(const Config& node) {
  node.check_keys({"type", "patch_size", "in_chans", "num_classes", "depths", "dims", "ssm_d_state",
                   "ssm_ratio", "ssm_dt_rank", "ssm_act_layer", "ssm_conv", "ssm_conv_bias",
                   "ssm_drop_rate", "ssm_init", "forward_type", "mlp_ratio", "mlp_act_layer",
                   "mlp_drop_rate", "gmlp", "drop_path_rate", "patch_norm", "norm_layer",
                   "downsample_version", "patchembed_version", "use_checkpoint", "posembed",
                   "imgsize", "scan", "fused_scan", "channels_last_scan", "sequence_scan", "out_indices"});
  VSSMOptions o;
  o.patch_size = node.get_int_in_or("patch_size", 4, 1, kMaxDepth);
  o.in_chans = node.get_int_in_or("in_chans", 3, 1, kMaxChannels);
  o.num_classes = node.get_int_in_or("num_classes", 1000, 1, kMaxChannels);
  // The size is never a silent default: `type: vssm` alone would build a 44M-parameter network.
  for (const char* key : {"depths", "dims"})
    if (!node.has(key))
      node.fail(std::string("missing required key '") + key +
                "' (the network's size; VMamba-T has depths: [2, 2, 9, 2], dims: 96, see configs/backbones/)");
  o.depths = node.get_ints_in("depths", 0, kMaxDepth);
  if (o.depths.empty()) node["depths"].fail("must not be empty");
  const size_t stages = o.depths.size();
  if (node["dims"].is_list()) {
    o.dims = node.get_ints_in("dims", 1, kMaxChannels);
  } else {
    // C1 doubles per stage: the last stage's width is the one to bound.
    const int64_t c1 = node.get_int_in_or("dims", 0, 1, kMaxChannels >> (std::min<size_t>(stages, 16) - 1));
    o.dims.clear();
    for (size_t i = 0; i < stages; ++i) o.dims.push_back(c1 << i);
  }
  if (o.dims.size() != stages)
    node["dims"].fail("depths has " + std::to_string(stages) + " stages but dims has " + std::to_string(o.dims.size()));

  read_ss2d_keys(node,
                 {.d_state = "ssm_d_state", .ssm_ratio = "ssm_ratio", .dt_rank = "ssm_dt_rank",
                  .act_layer = "ssm_act_layer", .d_conv = "ssm_conv", .conv_bias = "ssm_conv_bias",
                  .dropout = "ssm_drop_rate", .forward_type = "forward_type", .scan = "scan",
                  .fused_scan = "fused_scan", .channels_last_scan = "channels_last_scan",
                  .sequence_scan = "sequence_scan", .ratio_may_be_zero = true},
                 o.ssm);
  one_of(node, "ssm_init", "v0", {"v0"});

  o.mlp_ratio = node.get_or<double>("mlp_ratio", 4.0);
  require_ratio(node, "mlp_ratio", o.mlp_ratio, 0);  // 0 removes the MLP branch
  o.mlp_act = one_of(node, "mlp_act_layer", "gelu", activation_names());
  o.mlp_drop_rate = node.get_or<double>("mlp_drop_rate", 0.0);
  require_rate(node, "mlp_drop_rate", o.mlp_drop_rate);
  if (node.get_or<bool>("gmlp", false)) node["gmlp"].fail("gmlp: true is not supported");
  o.drop_path_rate = node.get_or<double>("drop_path_rate", 0.1);
  require_rate(node, "drop_path_rate", o.drop_path_rate);
  o.patch_norm = node.get_or<bool>("patch_norm", true);
  o.norm_layer = one_of(node, "norm_layer", "ln", {"ln", "ln2d", "bn"});
  o.downsample_version = one_of(node, "downsample_version", "v2", {"v1", "v2", "v3", "none"});
  o.patchembed_version = one_of(node, "patchembed_version", "v1", {"v1", "v2"});
  if (o.patchembed_version == "v2" && (o.patch_size < 2 || o.patch_size % 2))
    node["patch_size"].fail("must be even for patchembed_version v2, got " +
                            std::to_string(o.patch_size));
  node.get_or<bool>("use_checkpoint", false);  // activation checkpointing: memory only, ignored
  if (node.get_or<bool>("posembed", false)) node["posembed"].fail("posembed: true is not supported");
  node.get_or<int64_t>("imgsize", 224);  // only used by posembed
  o.out_indices.clear();
  for (size_t i = 0; i < stages; ++i) o.out_indices.push_back(static_cast<int64_t>(i));
  if (node.has("out_indices")) o.out_indices = node.get<std::vector<int64_t>>("out_indices");
  for (auto i : o.out_indices)
    if (i < 0 || i >= static_cast<int64_t>(stages))
      node["out_indices"].fail("index " + std::to_string(i) + " is not a stage (0.." +
                               std::to_string(stages - 1) + ")");
  return o;
}

}  // namespace vss
