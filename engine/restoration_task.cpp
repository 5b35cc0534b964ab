#include "engine/restoration_task.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/seed.h"
#include "datasets/augment.h"
#include "datasets/degradations.h"
#include "datasets/image_bank.h"
#include "datasets/image_tensor.h"
#include "datasets/paired_images.h"
#include "heads/restore/psnr_ssim.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/tiled_inference.h"

#include <torch/torch.h>

namespace vss {
namespace {

// One image pair, both [H, W, C] integer images with the model's channels; lq undefined
// when the input is made from the GT on the fly (noise, JPEG).
struct Sample {
  std::string name;
  at::Tensor gt, lq;
};

std::vector<Sample> load_split(const Config& data, const std::string& split, const Degradation& degradation,
                               int64_t channels, std::shared_ptr<const ImageBank> bank) {
  const Config node = data[split];
  node.check_keys(split == "train" ? std::vector<std::string>{"gt", "lq", "filename_tmpl", "repeat"}
                                   : std::vector<std::string>{"gt", "lq", "filename_tmpl"});
  PairedImagesOptions o;
  o.gt = node.get<std::string>("gt");
  o.lq = node.get_or<std::string>("lq", "");
  o.filename_tmpl = node.get_or<std::string>("filename_tmpl", o.filename_tmpl);
  o.bank = std::move(bank);
  o.scale = degradation.scale;
  o.bicubic_lq = degradation.kind == Degradation::Kind::kBicubic;
  std::vector<Sample> out;
  for (auto& p : read_paired_images(o)) {
    auto convert = [&](const at::Tensor& image, const std::string& what) {
      try {
        return match_channels(drop_alpha(image), channels).contiguous();
      } catch (const Error& e) {
        throw_file_error(what, std::string(e.what()) + " (model.in_chans " + std::to_string(channels) + ")");
      }
    };
    Sample s{p.name, convert(p.gt, p.source), {}};
    if (p.lq.defined()) s.lq = convert(p.lq, p.source + " (LQ)");
    if (degradation.kind == Degradation::Kind::kJpeg && s.gt.scalar_type() != at::kByte && !s.lq.defined())
      throw_file_error(p.source, "JPEG degradation needs 8-bit images, this one is 16-bit");
    out.push_back(std::move(s));
  }
  return out;
}

// [H, W, C] integer -> float [C, H, W] in [0, 1], a view of the crop box (scaled for the GT).
at::Tensor crop_chw(const at::Tensor& hwc, const CropBox& box, int64_t scale) {
  return crop(hwc.permute({2, 0, 1}), box, scale);
}

class RestorationTask : public Task {
 public:
  RestorationTask(const Config& node, const Config& root, c10::Device device)
      : model_(restore::make_restoration_net(root["model"])), device_(device) {
    node.check_keys({"type", "gt_size", "degradation", "loss", "use_hflip", "use_rot", "metrics", "val_seed", "val_tile",
                     "val_tile_overlap"});
    degradation_ = degradation_from_config(node["degradation"]);
    const auto& mo = model_->options();
    if (degradation_.scale != mo.upscale)
      node["degradation"].fail(degradation_.describe() + " makes x" + std::to_string(degradation_.scale) +
                               " pairs but model.upscale is " + std::to_string(mo.upscale));
    gt_size_ = node.get<int64_t>("gt_size");
    if (gt_size_ < 1 || gt_size_ % degradation_.scale != 0)
      node["gt_size"].fail("must be a positive multiple of the scale " + std::to_string(degradation_.scale));
    if (node.has("loss")) {
      const Config loss = node["loss"];
      loss.check_keys({"type", "eps"});
      const auto type = loss.get<std::string>("type");
      if (type != "l1" && type != "charbonnier") loss["type"].fail("unknown loss '" + type + "' (known: l1, charbonnier)");
      charbonnier_ = type == "charbonnier";
      eps_ = loss.get_or<double>("eps", eps_);
      if (!(eps_ > 0)) loss["eps"].fail("must be > 0");
    }
    hflip_ = node.get_or<bool>("use_hflip", true);
    rot_ = node.get_or<bool>("use_rot", true);
    const bool sr = degradation_.kind == Degradation::Kind::kBicubic;
    metric_.crop_border = sr ? degradation_.scale : 0;
    metric_.test_y_channel = sr;
    if (node.has("metrics")) {
      const Config m = node["metrics"];
      m.check_keys({"crop_border", "test_y_channel"});
      metric_.crop_border = m.get_or<int64_t>("crop_border", metric_.crop_border);
      metric_.test_y_channel = m.get_or<bool>("test_y_channel", metric_.test_y_channel);
      if (metric_.crop_border < 0) m["crop_border"].fail("must be >= 0");
    }
    val_seed_ = static_cast<uint64_t>(node.get_or<int64_t>("val_seed", 0));
    tile_.tile = node.get_or<int64_t>("val_tile", 0);
    tile_.overlap = node.get_or<int64_t>("val_tile_overlap", 32);
    if (tile_.tile < 0) node["val_tile"].fail("must be >= 0 (0: whole images)");
    if (tile_.tile > 0 && tile_.tile <= tile_.overlap) node["val_tile"].fail("must be larger than val_tile_overlap");

    const Config data = root["data"];
    data.check_keys({"bank", "train", "val"});
    std::shared_ptr<const ImageBank> bank;
    if (data.has("bank")) bank = std::make_shared<ImageBank>(data.get<std::string>("bank"));
    train_ = load_split(data, "train", degradation_, mo.in_chans, bank);
    val_ = load_split(data, "val", degradation_, mo.in_chans, bank);
    repeat_ = data["train"].get_or<int64_t>("repeat", 1);
    if (repeat_ < 1) data["train"]["repeat"].fail("must be >= 1");
    const int64_t lq_size = gt_size_ / degradation_.scale;
    for (const Sample& s : train_) {
      const at::Tensor& in = s.lq.defined() ? s.lq : s.gt;
      if (in.size(0) < lq_size || in.size(1) < lq_size)
        node["gt_size"].fail("training image '" + s.name + "' has an input of " + std::to_string(in.size(0)) + "x" +
                             std::to_string(in.size(1)) + ", smaller than the patch " + std::to_string(lq_size) + "x" +
                             std::to_string(lq_size));
    }
    log::info("restoration: ", train_.size(), " training and ", val_.size(), " validation images, ",
              degradation_.describe());
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return static_cast<int64_t>(train_.size()) * repeat_; }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    const int64_t scale = degradation_.scale, lq_size = gt_size_ / scale;
    std::vector<at::Tensor> inputs, targets;
    for (size_t j = 0; j < indices.size(); ++j) {
      const Sample& s = train_[static_cast<size_t>(indices[j]) % train_.size()];
      AugmentRng rng(mix_seed(seed, j));
      const at::Tensor& source = s.lq.defined() ? s.lq : s.gt;
      const CropBox box = random_crop_box(source.size(0), source.size(1), lq_size, lq_size, rng);
      const FlipRotate flip = random_flip_rotate(hflip_, rot_, rot_, rng);
      const at::Tensor gt = apply(crop_chw(s.gt, box, scale), flip).contiguous();
      at::Tensor lq;
      if (s.lq.defined()) {
        lq = apply(crop_chw(s.lq, box, 1), flip).contiguous();
      } else if (degradation_.kind == Degradation::Kind::kJpeg) {
        lq = jpeg_compress(gt.permute({1, 2, 0}).contiguous(), degradation_.quality).permute({2, 0, 1});
      }
      const at::Tensor target = image_to_float(gt.permute({1, 2, 0}));
      at::Tensor input = lq.defined() ? image_to_float(lq.permute({1, 2, 0})) : target;
      if (degradation_.kind == Degradation::Kind::kNoise && !s.lq.defined())
        input = add_gaussian_noise(target, degradation_.sigma, rng());
      inputs.push_back(input);
      targets.push_back(target);
    }
    return {torch::stack(inputs), torch::stack(targets)};
  }

  at::Tensor loss(const Batch& batch) override {
    const at::Tensor out = model_->forward(batch.inputs);
    if (!charbonnier_) return torch::l1_loss(out, batch.targets);
    return torch::sqrt((out - batch.targets).pow(2) + eps_).mean();
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    const auto net = [this](const at::Tensor& x) { return model_->forward(x); };
    double sum = 0;
    for (const Sample& s : val_) {
      const at::Tensor input = validation_input(s).unsqueeze(0).to(device_);
      const at::Tensor out = restore::tiled_forward(net, input, degradation_.scale, tile_).squeeze(0).cpu();
      try {
        sum += restore::psnr(float_to_image(out, at::kByte), restore::to_uint8(s.gt), metric_);
      } catch (const Error& e) {
        throw Error("validation image '" + s.name + "': " + e.what());
      }
    }
    model_->train(was_training);
    return sum / static_cast<double>(val_.size());
  }

  std::string metric_name() const override { return metric_.test_y_channel ? "psnr_y" : "psnr"; }

 private:
  // Every noisy validation image draws from val_seed, as KAIR reseeds with 0 per test image
  // (and vss-restore degrade --seed does).
  at::Tensor validation_input(const Sample& s) const {
    if (s.lq.defined()) return image_to_float(s.lq);
    if (degradation_.kind == Degradation::Kind::kJpeg) return image_to_float(jpeg_compress(s.gt, degradation_.quality));
    return add_gaussian_noise(image_to_float(s.gt), degradation_.sigma, val_seed_);
  }

  restore::RestorationNet model_;
  c10::Device device_;
  Degradation degradation_;
  int64_t gt_size_ = 0, repeat_ = 1;
  bool charbonnier_ = false, hflip_ = true, rot_ = true;
  double eps_ = 1e-12;
  restore::MetricOptions metric_;
  restore::TileOptions tile_;
  uint64_t val_seed_ = 0;
  std::vector<Sample> train_, val_;
};

}  // namespace

std::shared_ptr<Task> make_restoration_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<RestorationTask>(node, root, device);
}

}  // namespace vss
