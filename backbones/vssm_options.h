#pragma once
// Hyper-parameters of SS2D and VSSM under the official VMamba constructor's argument
// names (specs/vmamba.md §1), read from YAML or from a parity file's JSON `config`.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vss {

class Config;
class ScanStrategy;

// How an SS2D picks between its scan paths: `auto` by the rule of each choice below,
// `always` / `never` force it (tests, benchmarks).
//   channels_last_scan: CUDA inference (no gradient needed) on the channel-last fused scan;
//     auto where the channel-first kernels are weakest (H200 measurements,
//     bench/results/h200_2026-12-04.md): maps of 16384 tokens and more (rows too large for
//     shared memory), and wherever batch × channels reaches 12288 (VMamba-T's every stage at
//     batch 128: enough warps that the channel-last kernel rarely splits the plan).
//   sequence_scan: the K sequences materialised by copies (scans/walk_flatten.h), Δ/B/C
//     projected per direction in scan order and the plain scan op, as the official SS2D does;
//     only for strategies whose directions all walk rows or columns (cross). auto: on CUDA
//     when gradients are needed (training), where the plain op's backward beats the fused one.
enum class ScanPathChoice { kAuto, kAlways, kNever };

struct SS2DOptions {
  int64_t d_model = 96;
  int64_t d_state = 16;      // the official SS2D / VSSM constructors' default (released configs say 1)
  double ssm_ratio = 2.0;
  int64_t dt_rank = 0;       // 0 = "auto": ceil(d_model / 16), resolved per layer
  std::string act = "silu";  // act_layer
  int64_t d_conv = 3;        // < 2: no depthwise conv
  bool conv_bias = true;
  double dropout = 0.0;
  std::string forward_type = "v05_noz";
  bool gated = false;        // forward_type without the `_noz` suffix: in_proj gives x and z
  std::shared_ptr<ScanStrategy> scan;  // `scan:` (default cross); K = scan->num_directions()
  bool fused_scan = true;    // scan_2d (plan-driven op) or scan_2d_unfused (oracle)
  ScanPathChoice channels_last_scan = ScanPathChoice::kAuto;
  ScanPathChoice sequence_scan = ScanPathChoice::kAuto;
  // Whether `batch` maps of `tokens` positions and d_inner() channels take the channel-last
  // fused scan (with fused_scan, on CUDA, without gradients).
  bool channels_last_scan_for(int64_t batch, int64_t tokens) const;

  int64_t d_inner() const { return static_cast<int64_t>(ssm_ratio * static_cast<double>(d_model)); }
};

struct VSSMOptions {
  int64_t patch_size = 4;
  int64_t in_chans = 3;
  int64_t num_classes = 1000;
  std::vector<int64_t> depths{2, 2, 9, 2};
  std::vector<int64_t> dims{96, 192, 384, 768};
  SS2DOptions ssm;           // d_model is set per stage
  double mlp_ratio = 4.0;
  std::string mlp_act = "gelu";
  double mlp_drop_rate = 0.0;
  double drop_path_rate = 0.1;
  bool patch_norm = true;
  std::string norm_layer = "ln";         // ln | ln2d | bn
  std::string downsample_version = "v2"; // v1 | v2 | v3 | none
  std::string patchembed_version = "v1"; // v1 | v2
  // Backbone_VSSM (type vssm_backbone): stages whose normalised output is returned
  // (default: all).
  std::vector<int64_t> out_indices{0, 1, 2, 3};
};

// The default `scan:`, VMamba's cross scan.
std::shared_ptr<ScanStrategy> default_scan_strategy();

// How one config format spells the SS2D keys: the official SS2D constructor (`d_state`), the
// official VSSM constructor (`ssm_d_state`), a restoration net (`d_state`, and no `dt_rank`).
// Null: the format has no such key and the option keeps the value it had.
struct SS2DKeys {
  const char* d_state = nullptr;
  const char* ssm_ratio = nullptr;
  const char* dt_rank = nullptr;  // "auto" as absent (dt_rank 0: ceil(d_model / 16), per layer)
  const char* act_layer = nullptr;
  const char* d_conv = nullptr;
  const char* conv_bias = nullptr;
  const char* dropout = nullptr;
  const char* forward_type = nullptr;  // absent: v2, the official constructors' default
  const char* scan = nullptr;          // absent: default_scan_strategy()
  const char* fused_scan = nullptr;
  const char* channels_last_scan = nullptr;
  const char* sequence_scan = nullptr;
  bool ratio_may_be_zero = false;  // VSSM: ssm_ratio 0 removes the SS2D branch
};

// The one reader of SS2D keys: each key `keys` spells, read into `o`, whose values are the
// defaults of absent keys. d_state is bounded by the CUDA scan kernels' limit (16), named in
// the `file:line: key:` error here rather than at the first forward on a GPU.
void read_ss2d_keys(const Config& node, const SS2DKeys& keys, SS2DOptions& o);

// SS2D keys as in the official SS2D constructor (d_model, d_state, ssm_ratio, dt_rank,
// d_conv, conv_bias, forward_type, channel_first, dropout, act_layer) plus `scan:` and
// `fused_scan:`, `channels_last_scan:`, `sequence_scan:`. Unknown keys and unsupported values are errors naming the key.
SS2DOptions ss2d_options_from_config(const Config& node);
// VSSM keys as in the official VSSM constructor plus `type`, `scan`, `fused_scan`,
// `channels_last_scan`, `sequence_scan`, `out_indices`. `dims` may be an int C1 (stages C1·2^i) or a list.
VSSMOptions vssm_options_from_config(const Config& node);

}  // namespace vss
