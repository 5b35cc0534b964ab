#include "engine/change_task.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/seed.h"
#include "datasets/change_folder.h"
#include "datasets/synthetic_change.h"
#include "heads/change/change_inference.h"
#include "heads/change/change_metrics.h"
#include "heads/change/mamba_bcd.h"

#include <torch/torch.h>

#include <optional>

namespace vss {
namespace {

change::ChangePair generate_change_pair(const change::SyntheticChangeOptions& o, int64_t i) {
  return change::make_synthetic_change(o, i);
}
using PairSet = PairSplit<change::ChangePair, change::SyntheticChangeOptions, generate_change_pair>;

change::SyntheticChangeOptions read_generator(const Config& data, const Config& split) {
  change::SyntheticChangeOptions o;
  o.height = o.width = data.get_or<int64_t>("image_size", o.height);
  if (o.height < 1) data["image_size"].fail("must be >= 1");
  o.buildings = data.get_or<double>("buildings", o.buildings);
  if (o.buildings < 0) data["buildings"].fail("must be >= 0");
  o.change = data.get_or<double>("change", o.change);
  if (o.change < 0) data["change"].fail("must be >= 0");
  if (data.has("distractors")) {
    const Config d = data["distractors"];
    d.check_keys({"illumination", "misregistration", "noise", "seasonal", "shadows", "vehicles"});
    o.illumination = d.get_or<double>("illumination", o.illumination);
    o.misregistration = d.get_or<double>("misregistration", o.misregistration);
    o.noise = d.get_or<double>("noise", o.noise);
    o.seasonal = d.get_or<double>("seasonal", o.seasonal);
    o.shadows = d.get_or<bool>("shadows", o.shadows);
    o.vehicles = d.get_or<bool>("vehicles", o.vehicles);
    for (const char* key : {"illumination", "misregistration", "noise"})
      if (d.get_or<double>(key, 0) < 0) d[key].fail("must be >= 0 (0: off)");
    if (o.seasonal < 0 || o.seasonal > 1) d["seasonal"].fail("must be in [0, 1] (0: off)");
  }
  split.check_keys({"num", "seed"});
  o.seed = static_cast<uint64_t>(split.get<int64_t>("seed"));
  return o;
}

PairSet generated_split(const Config& data, const std::string& split, bool keep) {
  const Config node = data[split];
  const change::SyntheticChangeOptions o = read_generator(data, node);
  const int64_t num = node.get<int64_t>("num");
  if (num < 1) node["num"].fail("must be >= 1 (the " + split + " split is empty)");
  return generated_pairs<PairSet>(o, num, keep);
}

PairSet folder_split(const Config& data, const std::string& split_key) {
  const std::string root = data.get<std::string>("root");
  const std::string split = data.get<std::string>(split_key);
  change::ChangeSplit found;
  try {
    found = change::find_change_split(root, split);
  } catch (const Error& e) {
    data[split_key].fail(e.what());
  }
  for (const auto& line : found.skipped) log::warn(root, "/", split, ": skipped ", line);
  if (found.pairs.empty()) data[split_key].fail("no complete pair (A, B and label) in " + root + " / " + split);
  PairSet set;
  Progress bar(static_cast<int64_t>(found.pairs.size()), "load " + split, {.unit = "pair"});
  for (const auto& files : found.pairs) {
    bool grey_mix = false;
    set.stored.push_back(change::read_change_pair(files, &grey_mix));
    if (grey_mix) log::warn(files.paths[0], ", ", files.paths[1], ": one date is grey, the other colour; both used as grey");
    set.names.push_back(files.paths[2]);
    bar.advance();
  }
  bar.finish();
  if (found.skipped.size() > 0)
    log::warn(root, "/", split, ": ", found.pairs.size(), " pair(s) used, ", found.skipped.size(),
              " skipped for missing partner files");
  return set;
}

class ChangeTask : public Task {
 public:
  ChangeTask(const Config& node, const Config& root, c10::Device device)
      : model_(change::make_mamba_bcd(root["model"])), device_(device) {
    eval_ = read_change_eval(node);

    const Config data = root["data"];
    const auto type = data.get<std::string>("type");
    if (type == "synthetic_change") {
      data.check_keys({"type", "image_size", "buildings", "change", "distractors", "train", "val", "crop", "hflip",
                       "vflip", "rotate", "swap"});
      train_ = generated_split(data, "train", /*keep=*/false);
      val_ = generated_split(data, "val", /*keep=*/true);
    } else if (type == "change_folder") {
      data.check_keys({"type", "root", "train", "val", "crop", "hflip", "vflip", "rotate", "swap"});
      train_ = folder_split(data, "train");
      val_ = folder_split(data, "val");
    } else {
      data["type"].fail("unknown change data '" + type + "' (known: change_folder, synthetic_change)");
    }
    augment_ = read_change_augment(data);
    require_one_size_without_crop(data, augment_, train_);
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return train_.size(); }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    return augmented_pair_batch(
        train_, indices, seed,
        [this](const change::ChangePair& p, AugmentRng& rng) { return change::augment_change_pair(p, augment_, rng); },
        [](const change::ChangePair& p) { return p.label; });
  }

  at::Tensor loss(const Batch& batch) override {
    const at::Tensor logits = model_->forward(change::normalize_input(batch.inputs.select(1, 0)),
                                              change::normalize_input(batch.inputs.select(1, 1)));
    return change::mamba_bcd_loss(logits, batch.targets);
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    change::ConfusionMatrix cm;
    for_each_eval_batch<change::ChangePair>(
        val_.stored, eval_.batch_size, [&](int64_t start, int64_t end, const at::Tensor& pre, const at::Tensor& post) {
          const at::Tensor mask =
              change::change_mask(change::change_logits(*model_, pre.to(device_), post.to(device_), eval_.inference)).cpu();
          for (int64_t i = start; i < end; ++i)
            cm += change::confusion_matrix(mask[i - start], val_.stored[i].label, val_.name(i));
        });
    model_->train(was_training);
    return change::change_metrics(cm).f1;
  }

  std::string metric_name() const override { return "val_f1"; }

 private:
  change::MambaBCD model_;
  c10::Device device_;
  ChangeEvalOptions eval_;
  change::ChangeAugmentOptions augment_;
  PairSet train_, val_;
};

}  // namespace

change::ChangeAugmentOptions read_change_augment(const Config& data) {
  change::ChangeAugmentOptions o;
  o.crop = data.get_or<int64_t>("crop", 0);
  if (o.crop < 0) data["crop"].fail("must be >= 0 (0: whole images)");
  o.hflip = data.get_or<bool>("hflip", false);
  o.vflip = data.get_or<bool>("vflip", false);
  o.rotate = data.get_or<bool>("rotate", false);
  o.swap = data.get_or<bool>("swap", false);
  return o;
}

ChangeEvalOptions read_change_eval(const Config& node) {
  node.check_keys({"type", "eval_batch_size", "eval_tile", "eval_stride"});
  ChangeEvalOptions o;
  o.batch_size = node.get_or<int64_t>("eval_batch_size", o.batch_size);
  if (o.batch_size < 1) node["eval_batch_size"].fail("must be >= 1");
  o.inference.tile = node.get_or<int64_t>("eval_tile", 0);
  o.inference.stride = node.get_or<int64_t>("eval_stride", 0);
  if (o.inference.tile < 0) node["eval_tile"].fail("must be >= 0 (0: whole images)");
  if (o.inference.stride < 0) node["eval_stride"].fail("must be >= 0 (0: the tile size)");
  return o;
}

void require_one_size_without_crop(const Config& data, const std::vector<std::vector<int64_t>>& sizes,
                                   const std::vector<std::string>& names) {
  for (size_t i = 1; i < sizes.size(); ++i)
    if (sizes[i] != sizes[0])
      data.fail("the training images differ in size (" + names[0] + " vs " + names[i] +
                ") and there is no crop: set data.crop");
}

std::shared_ptr<Task> make_change_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<ChangeTask>(node, root, device);
}

}  // namespace vss
