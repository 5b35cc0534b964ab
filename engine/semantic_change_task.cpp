#include "engine/semantic_change_task.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/seed.h"
#include "datasets/second_folder.h"
#include "datasets/synthetic_semantic_change.h"
#include "engine/change_task.h"
#include "heads/change/change_inference.h"
#include "heads/change/mamba_scd.h"
#include "heads/change/semantic_change_metrics.h"

#include <torch/torch.h>

#include <optional>

namespace vss {
namespace {

using SemanticPairSet =
    PairSplit<change::SemanticChangePair, change::SyntheticSemanticChangeOptions, change::make_synthetic_semantic_change>;

SemanticPairSet generated_semantic_split(const Config& data, const std::string& split, bool keep) {
  change::SyntheticSemanticChangeOptions o;
  o.height = o.width = data.get_or<int64_t>("image_size", o.height);
  if (o.height < 8) data["image_size"].fail("must be >= 8");
  o.regions = data.get_or<double>("regions", o.regions);
  o.illumination = data.get_or<double>("illumination", o.illumination);
  o.noise = data.get_or<double>("noise", o.noise);
  for (const char* key : {"regions", "illumination", "noise"})
    if (data.get_or<double>(key, 0) < 0) data[key].fail("must be >= 0 (0: off)");
  const Config node = data[split];
  node.check_keys({"num", "seed"});
  o.seed = static_cast<uint64_t>(node.get<int64_t>("seed"));
  const int64_t num = node.get<int64_t>("num");
  if (num < 1) node["num"].fail("must be >= 1 (the " + split + " split is empty)");
  return generated_pairs<SemanticPairSet>(o, num, keep);
}

SemanticPairSet semantic_folder_split(const Config& data, const std::string& split_key, int64_t classes) {
  const std::filesystem::path root = data.get<std::string>("root");
  const std::string split = data.get<std::string>(split_key);
  const std::string list = data.get_or<std::string>(split_key + "_list", "");
  change::SemanticChangeSplit found;
  try {
    found = change::find_semantic_change_split(root / split, list);
  } catch (const Error& e) {
    data[split_key].fail(e.what());
  }
  for (const auto& line : found.skipped) log::warn((root / split).string(), ": skipped ", line);
  if (found.pairs.empty()) data[split_key].fail("no complete pair in " + (root / split).string());
  SemanticPairSet set;
  int64_t disagreeing_pairs = 0, disagreeing_pixels = 0;
  Progress bar(static_cast<int64_t>(found.pairs.size()), "load " + split, {.unit = "pair"});
  for (const auto& files : found.pairs) {
    set.stored.push_back(change::read_semantic_change_pair(files, classes));
    if (const int64_t n = change::count_change_label_disagreements(set.stored.back()); n > 0)
      ++disagreeing_pairs, disagreeing_pixels += n;
    set.names.push_back(files.paths[2]);
    bar.advance();
  }
  bar.finish();
  if (disagreeing_pairs > 0)
    log::warn((root / split).string(), ": in ", disagreeing_pairs, " pair(s) the change map disagrees with the land-cover ",
              "maps on ", disagreeing_pixels, " pixel(s) (used as they are)");
  return set;
}

class SemanticChangeTask : public Task {
 public:
  SemanticChangeTask(const Config& node, const Config& root, c10::Device device)
      : model_(change::make_mamba_scd(root["model"])), device_(device) {
    eval_ = read_change_eval(node);

    const Config data = root["data"];
    const auto type = data.get<std::string>("type");
    const std::vector<std::string> augment_keys{"crop", "hflip", "vflip", "rotate", "swap"};
    auto keys = [&](std::vector<std::string> own) {
      own.insert(own.end(), augment_keys.begin(), augment_keys.end());
      return own;
    };
    if (type == "synthetic_semantic_change") {
      if (model_->semantic_classes() != change::kSecondClasses)
        root["model"]["semantic_classes"].fail("generated pairs have SECOND's 7 classes");
      data.check_keys(keys({"type", "image_size", "regions", "illumination", "noise", "train", "val"}));
      train_ = generated_semantic_split(data, "train", /*keep=*/false);
      val_ = generated_semantic_split(data, "val", /*keep=*/true);
    } else if (type == "second_folder") {
      data.check_keys(keys({"type", "root", "train", "val", "train_list", "val_list"}));
      train_ = semantic_folder_split(data, "train", model_->semantic_classes());
      val_ = semantic_folder_split(data, "val", model_->semantic_classes());
    } else {
      data["type"].fail("unknown semantic change data '" + type + "' (known: second_folder, synthetic_semantic_change)");
    }
    augment_ = read_change_augment(data);
    require_one_size_without_crop(data, augment_, train_);
    model_->to(device_);
  }

  torch::nn::Module& model() override { return *model_; }
  int64_t train_size() const override { return train_.size(); }

  Batch train_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    // targets [B, 3, h, w]: change, label1, label2.
    return augmented_pair_batch(
        train_, indices, seed,
        [this](const change::SemanticChangePair& p, AugmentRng& rng) {
          return change::augment_semantic_change_pair(p, augment_, rng);
        },
        [](const change::SemanticChangePair& p) { return torch::stack({p.change, p.label1, p.label2}); });
  }

  at::Tensor loss(const Batch& batch) override {
    const change::SemanticChangeLogits logits = model_->forward(change::normalize_input(batch.inputs.select(1, 0)),
                                                                change::normalize_input(batch.inputs.select(1, 1)));
    return change::mamba_scd_loss(logits, batch.targets.select(1, 0), batch.targets.select(1, 1),
                                  batch.targets.select(1, 2));
  }

  double evaluate() override {
    torch::NoGradGuard no_grad;
    const bool was_training = model_->is_training();
    model_->eval();
    change::SemanticConfusion confusion(model_->semantic_classes());
    for_each_eval_batch<change::SemanticChangePair>(
        val_.stored, eval_.batch_size, [&](int64_t start, int64_t end, const at::Tensor& pre, const at::Tensor& post) {
          const auto maps = change::semantic_change_maps(
              change::semantic_change_logits(*model_, pre.to(device_), post.to(device_), eval_.inference));
          for (int64_t i = start; i < end; ++i) {
            confusion.add_map(maps.label1[i - start].cpu(), val_.stored[i].label1, val_.names[i]);
            confusion.add_map(maps.label2[i - start].cpu(), val_.stored[i].label2, val_.names[i]);
          }
        });
    model_->train(was_training);
    return change::semantic_change_metrics(confusion).sek;
  }

  std::string metric_name() const override { return "val_sek"; }

 private:
  change::MambaSCD model_;
  c10::Device device_;
  ChangeEvalOptions eval_;
  change::ChangeAugmentOptions augment_;
  SemanticPairSet train_, val_;
};

}  // namespace

std::shared_ptr<Task> make_semantic_change_task(const Config& node, const Config& root, c10::Device device) {
  return std::make_shared<SemanticChangeTask>(node, root, device);
}

}  // namespace vss
