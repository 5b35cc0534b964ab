#include "heads/restore/restoration_weights.h"

#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/safetensors.h"

#include <torch/torch.h>

#include <map>

namespace vss::restore {

namespace {

constexpr char kMetadataKey[] = "restore";

std::string with_shape(const std::string& name, const at::Tensor& t) {
  return name + " " + shape_to_string(t.sizes().vec());
}

std::string describe(int64_t scale, const std::string& upsampler) {
  return upsampler == "none" ? std::string("x1 (no upsampler: denoising / JPEG)")
                             : "x" + std::to_string(scale) + " (" + upsampler + ")";
}

}  // namespace

RestorationLayout layout_from_state(const NamedTensors& state, const std::string& source) {
  std::map<std::string, at::Tensor> t(state.begin(), state.end());
  const auto first = t.find("conv_first.weight");
  if (first == t.end() || first->second.dim() != 4)
    throw_file_error(source, "is not a MambaIR / MaIR state dict (no conv_first.weight [C, in, 3, 3])");
  RestorationLayout l;
  l.embed_dim = first->second.size(0);
  l.in_chans = first->second.size(1);
  const auto up0 = t.find("upsample.0.weight");
  if (t.count("conv_before_upsample.0.weight")) {
    // Classic: n x [conv 64 -> 256, shuffle 2] (convs at upsample.0, .2, ...) or one conv 64 -> 576 for x3.
    l.upsampler = "pixelshuffle";
    if (up0 == t.end()) throw_file_error(source, "has conv_before_upsample but no upsample.0.weight");
    int64_t convs = 0;
    while (t.count("upsample." + std::to_string(2 * convs) + ".weight")) ++convs;
    const bool x3 = up0->second.size(0) == 9 * up0->second.size(1);
    l.scale = x3 ? 3 : int64_t{1} << convs;
    l.evidence = with_shape("upsample.0.weight", up0->second) + ", " + std::to_string(convs) + " upsample conv(s)";
  } else if (up0 != t.end()) {
    // Lightweight: one conv C -> scale²·out before PixelShuffle(scale).
    l.upsampler = "pixelshuffledirect";
    const int64_t ratio = up0->second.size(0) / std::max<int64_t>(l.in_chans, 1);
    int64_t s = 1;
    while (s * s < ratio) ++s;
    if (s * s != ratio || up0->second.size(0) % l.in_chans != 0)
      throw_file_error(source, with_shape("upsample.0.weight", up0->second) + " is not scale² x " +
                                   std::to_string(l.in_chans) + " output channels");
    l.scale = s;
    l.evidence = with_shape("upsample.0.weight", up0->second);
  } else if (t.count("conv_last.weight")) {
    l.upsampler = "none";
    l.scale = 1;
    l.evidence = with_shape("conv_last.weight", t.at("conv_last.weight")) + ", no upsample.*";
  } else {
    throw_file_error(source, "has neither upsample.* nor conv_last.weight: not a MambaIR / MaIR state dict");
  }
  return l;
}

void check_layout(const RestorationNetOptions& o, const RestorationLayout& l, const std::string& source) {
  if (l.upsampler != o.upsampler || l.scale != o.upscale)
    throw_file_error(source, "weights are for " + describe(l.scale, l.upsampler) + ", read from " + l.evidence +
                                 ", but the config builds " + describe(o.upscale, o.upsampler) +
                                 ": give the config these weights were trained with");
  if (l.in_chans != o.in_chans)
    throw_file_error(source, "weights take " + std::to_string(l.in_chans) + "-channel images (conv_first.weight), the config " +
                                 std::to_string(o.in_chans) + " (model.in_chans)");
  if (l.embed_dim != o.embed_dim)
    throw_file_error(source, "weights have embed_dim " + std::to_string(l.embed_dim) + " (conv_first.weight), the config " +
                                 std::to_string(o.embed_dim) + " (model.embed_dim)");
}

std::optional<std::string> restore_metadata(const std::filesystem::path& file) {
  const SafetensorsFile f = read_safetensors(file);
  const auto it = f.metadata.find(kMetadataKey);
  if (it == f.metadata.end()) return std::nullopt;
  return it->second;
}

std::string restore_config_yaml(const Config& model, const Config* degradation, const Config* metrics) {
  Config root = Config::parse("{}", "<restore metadata>");
  root.apply_override("model=" + model.dump());
  if (degradation) root.apply_override("degradation=" + degradation->dump());
  if (metrics) root.apply_override("metrics=" + metrics->dump());
  return root.dump();
}

void save_restoration_weights(const RestorationNetImpl& net, const std::string& config_yaml,
                              const std::filesystem::path& file) {
  save_weights(net, file, {{kMetadataKey, config_yaml}});
}

void load_restoration_weights(RestorationNetImpl& net, const NamedTensors& state, const std::string& source) {
  check_layout(net.options(), layout_from_state(state, source), source);
  load_state(net, state, source);
}

}  // namespace vss::restore
