#include "backbones/vssm.h"

#include "backbones/layers.h"
#include "backbones/vss_block.h"
#include "core/error.h"

#include <torch/torch.h>

namespace vss {

namespace {

std::string size_text(int64_t H, int64_t W) { return std::to_string(H) + "x" + std::to_string(W); }

}  // namespace

// Stem. v1: conv(k = s = patch) -> norm, keys 0 and 2. v2: conv(k3, s2) -> norm -> GELU ->
// conv(k3, s2) -> norm, keys 0, 2, 5, 7 (the official Sequential numbers its permutes too).
class PatchEmbedImpl : public torch::nn::Module {
 public:
  explicit PatchEmbedImpl(const VSSMOptions& o) : v2_(o.patchembed_version == "v2"), patch_(o.patch_size) {
    const int64_t C = o.dims[0];
    if (v2_) {
      const int64_t stride = o.patch_size / 2;
      conv1_ = register_module("0", Conv(o.in_chans, C / 2, stride + 1, stride, 1, 1, true, true));
      if (o.patch_norm) norm1_ = register_module("2", ChannelNorm(o.norm_layer, C / 2));
      conv2_ = register_module("5", Conv(C / 2, C, stride + 1, stride, 1, 1, true, true));
      if (o.patch_norm) norm2_ = register_module("7", ChannelNorm(o.norm_layer, C));
    } else {
      conv1_ = register_module("0", Conv(o.in_chans, C, o.patch_size, o.patch_size, 0, 1, true, true));
      if (o.patch_norm) norm2_ = register_module("2", ChannelNorm(o.norm_layer, C));
    }
  }

  at::Tensor forward(const at::Tensor& images) {  // NCHW -> channel-last
    if (!v2_ && (images.size(2) % patch_ || images.size(3) % patch_))
      throw Error("VSSM: image size " + size_text(images.size(2), images.size(3)) +
                  " is not divisible by patch_size " + std::to_string(patch_) +
                  " (patchembed_version v1 would drop the remainder; resize or pad the input)");
    at::Tensor x = conv1_->forward_channel_last(images.permute({0, 2, 3, 1}));
    if (v2_) {
      // Where conv2 runs in the autocast dtype (training on CUDA) the norm writes that dtype and
      // GELU runs in it, as the conv would cast its input anyway: half the bytes both ways.
      if (norm1_) x = conv2_->runs_in_autocast_dtype(x) ? norm1_->forward_into_projection(x) : norm1_->forward(x);
      x = conv2_->forward_channel_last(at::gelu(x));
    }
    return norm2_ ? norm2_->forward(x) : x;
  }

 private:
  bool v2_;
  int64_t patch_;
  Conv conv1_{nullptr}, conv2_{nullptr};
  ChannelNorm norm1_{nullptr}, norm2_{nullptr};
};

// Between stages. v2: conv(k2, s2) -> norm; v3: conv(k3, s2, p1) -> norm (keys 1, 3).
// v1: PatchMerging2D — pad to even, concatenate the 2x2 neighbours (0,0), (1,0), (0,1),
// (1,1) as (row, col), norm over 4C, reduction (Linear, no bias).
class DownsampleImpl : public torch::nn::Module {
 public:
  DownsampleImpl(const std::string& version, int64_t dim, int64_t out_dim, const std::string& norm_layer)
      : merging_(version == "v1"), kernel_(version == "v2" ? 2 : 3) {
    if (merging_) {
      reduction_ = register_module("reduction", Dense(4 * dim, out_dim, false));
      norm_ = register_module("norm", ChannelNorm(norm_layer, 4 * dim));
    } else {
      conv_ = register_module("1", Conv(dim, out_dim, kernel_, 2, kernel_ == 3 ? 1 : 0, 1, true, true));
      norm_ = register_module("3", ChannelNorm(norm_layer, out_dim));
    }
  }

  at::Tensor forward(const at::Tensor& x) {  // [B, H, W, C] channel-last
    const int64_t H = x.size(1), W = x.size(2);
    if (merging_) {
      const at::Tensor p = (H % 2 || W % 2) ? at::constant_pad_nd(x, {0, 0, 0, W % 2, 0, H % 2}) : x;
      auto phase = [&](int64_t row, int64_t col) {
        return p.slice(1, row, std::nullopt, 2).slice(2, col, std::nullopt, 2);
      };
      const at::Tensor cat = torch::cat({phase(0, 0), phase(1, 0), phase(0, 1), phase(1, 1)}, -1);
      return reduction_->forward(norm_->forward(cat));
    }
    if (kernel_ == 2 && (H < 2 || W < 2))
      throw Error("VSSM: a " + size_text(H, W) +
                  " map is too small for downsample_version v2 (kernel 2, stride 2); use a larger image");
    return norm_->forward(conv_->forward_channel_last(x));
  }

 private:
  bool merging_;
  int64_t kernel_;
  Conv conv_{nullptr};
  Dense reduction_{nullptr};
  ChannelNorm norm_{nullptr};
};

// layers.{i}: blocks.{j} then downsample (none after the last stage).
class StageImpl : public torch::nn::Module {
 public:
  StageImpl(const VSSMOptions& o, size_t index, const std::vector<double>& drop_path_rates) {
    blocks_ = register_module("blocks", torch::nn::ModuleList());
    for (double rate : drop_path_rates) blocks_->push_back(VSSBlock(o.dims[index], rate, o));
    if (index + 1 < o.dims.size() && o.downsample_version != "none")
      downsample_ = register_module(
          "downsample", std::make_shared<DownsampleImpl>(o.downsample_version, o.dims[index],
                                                         o.dims[index + 1], o.norm_layer));
  }

  at::Tensor blocks(at::Tensor x) {
    for (const auto& block : *blocks_) x = block->as<VSSBlockImpl>()->forward(x);
    return x;
  }
  at::Tensor downsample(const at::Tensor& x) { return downsample_ ? downsample_->forward(x) : x; }

 private:
  torch::nn::ModuleList blocks_{nullptr};
  std::shared_ptr<DownsampleImpl> downsample_;
};

// classifier.norm -> average over H, W -> classifier.head.
class ClassifierImpl : public torch::nn::Module {
 public:
  ClassifierImpl(const VSSMOptions& o) {
    norm_ = register_module("norm", ChannelNorm(o.norm_layer, o.dims.back()));
    head_ = register_module("head", Dense(o.dims.back(), o.num_classes, true));
  }
  at::Tensor forward(const at::Tensor& x) {  // [B, H, W, C]
    return head_->forward(norm_->forward(x).mean({1, 2}));
  }

 private:
  ChannelNorm norm_{nullptr};
  Dense head_{nullptr};
};

VSSM::VSSM(VSSMOptions options, bool dense_backbone) : options_(std::move(options)), dense_(dense_backbone) {
  const VSSMOptions& o = options_;
  patch_embed_ = register_module("patch_embed", std::make_shared<PatchEmbedImpl>(o));

  int64_t total = 0;
  for (auto d : o.depths) total += d;
  const auto rates = torch::linspace(0.0, o.drop_path_rate, total, torch::kFloat);
  auto layers = register_module("layers", torch::nn::ModuleList());
  int64_t first = 0;
  for (size_t i = 0; i < o.depths.size(); ++i) {
    std::vector<double> stage_rates;
    for (int64_t j = 0; j < o.depths[i]; ++j) stage_rates.push_back(rates[first + j].item<double>());
    first += o.depths[i];
    stages_.push_back(std::make_shared<StageImpl>(o, i, stage_rates));
    layers->push_back(stages_.back());
  }
  if (dense_) {
    for (auto i : o.out_indices)
      outnorms_.push_back(register_module("outnorm" + std::to_string(i),
                                          std::make_shared<ChannelNormImpl>(o.norm_layer, o.dims[i])));
  } else {
    classifier_ = register_module("classifier", std::make_shared<ClassifierImpl>(o));
  }
}

VSSM::Trace VSSM::trace(const at::Tensor& images) {
  const VSSMOptions& o = options_;
  if (images.dim() != 4 || images.size(1) != o.in_chans)
    throw_shape_error("VSSM input", {-1, o.in_chans, -1, -1}, images.sizes().vec());
  Trace t;
  t.patch_embed = patch_embed_->forward(images);
  at::Tensor x = t.patch_embed;
  for (auto& stage : stages_) {
    t.stages.push_back(stage->blocks(x));
    x = stage->downsample(t.stages.back());
  }
  return t;
}

at::Tensor VSSM::forward(const at::Tensor& images) {
  if (!classifier_) throw Error("VSSM: this is a dense backbone (vssm_backbone) without a classifier");
  return classifier_->forward(trace(images).stages.back());
}

std::vector<at::Tensor> VSSM::forward_features(const at::Tensor& images) {
  Trace t = trace(images);
  std::vector<at::Tensor> out;
  if (dense_) {
    for (size_t k = 0; k < options_.out_indices.size(); ++k)
      out.push_back(outnorms_[k]->forward(t.stages[options_.out_indices[k]]).permute({0, 3, 1, 2}));
  } else {
    for (auto& s : t.stages) out.push_back(s.permute({0, 3, 1, 2}));
  }
  return out;
}

std::vector<int64_t> VSSM::feature_channels() const {
  std::vector<int64_t> out;
  if (dense_) {
    for (auto i : options_.out_indices) out.push_back(options_.dims[i]);
    return out;
  }
  return options_.dims;
}

std::vector<int64_t> VSSM::feature_strides() const {
  std::vector<int64_t> all;
  for (size_t i = 0; i < options_.dims.size(); ++i)
    all.push_back(options_.patch_size << (options_.downsample_version == "none" ? 0 : i));
  if (!dense_) return all;
  std::vector<int64_t> out;
  for (auto i : options_.out_indices) out.push_back(all[i]);
  return out;
}

}  // namespace vss
