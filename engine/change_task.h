#pragma once
// Training MambaBCD / AWMambaBCD binary change detection (heads.md §3): joint augmentation of
// both dates and the label (one random crop, flips, 90° rotations and an optional date swap,
// datasets/change_pair.h) drawn from the micro-batch seed, so a resumed run sees the same
// batches; loss CE + 0.75 Lovász-softmax; validation metric = F1 of the changed class over the
// confusion matrix of the whole validation set (conventions.md §3.4). YAML:
//   task: {type: change, eval_batch_size: 4, eval_tile: 0, eval_stride: 0}   # tile 0: whole images
//   model: {type: mamba_bcd, encoder: {...}, decoder: {...}}                # heads/change/mamba_bcd.h
//   data: {type: change_folder, root: data/LEVIR-CD, train: train, val: val,
//          crop: 256, hflip: true, vflip: true, rotate: true, swap: false}
//   data: {type: synthetic_change, image_size: 96, train: {num: 20000, seed: 1}, val: {num: 100, seed: 2},
//          buildings: 1, change: 1, distractors: {illumination: 1, misregistration: 1.5, noise: 3,
//          seasonal: 1, shadows: true, vehicles: true}, crop: 64, hflip: true, ...}
// change_folder reads the LEVIR-CD / WHU-CD or BIT_CD layout (datasets/change_folder.h) into
// memory once (about 7 MB per 1024² pair); pairs missing a partner file are skipped with a
// warning. synthetic_change makes training pairs on the fly from (seed, index).
#include "core/seed.h"
#include "datasets/change_pair.h"
#include "engine/batch.h"
#include "engine/task.h"
#include "heads/change/change_inference.h"

#include <ATen/ATen.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vss {

// What the binary and the semantic change tasks share:
// the joint augmentation keys of the `data:` node (crop, hflip, vflip, rotate, swap);
change::ChangeAugmentOptions read_change_augment(const Config& data);

// the `task:` node's type, eval_batch_size, eval_tile and eval_stride;
struct ChangeEvalOptions {
  int64_t batch_size = 4;
  change::ChangeInferenceOptions inference;
};
ChangeEvalOptions read_change_eval(const Config& task);

// the pairs of one split: read from a folder (or generated) once and kept, or generated on the
// fly from (seed, index) by `make` for training on synthetic data;
template <class Pair, class Generator, Pair (*make)(const Generator&, int64_t)>
struct PairSplit {
  std::vector<Pair> stored;
  std::vector<std::string> names;
  std::optional<Generator> generator;
  int64_t generated = 0;

  int64_t size() const { return generator ? generated : static_cast<int64_t>(stored.size()); }
  Pair at(int64_t i) const { return generator ? make(*generator, i) : stored[i]; }
  std::string name(int64_t i) const { return generator ? "generated pair " + std::to_string(i) : names[i]; }
};

// a generated split of `num` pairs: kept (validation) or generated on the fly (training);
template <class Split, class Generator>
Split generated_pairs(const Generator& o, int64_t num, bool keep) {
  Split on_the_fly;
  on_the_fly.generator = o;
  on_the_fly.generated = num;
  if (!keep) return on_the_fly;
  Split kept;
  for (int64_t i = 0; i < num; ++i) {
    kept.stored.push_back(on_the_fly.at(i));
    kept.names.push_back(on_the_fly.name(i));
  }
  return kept;
}

// without a crop every stored training pair must have one size, or batches cannot be stacked:
// an error on `data` naming the first two files that differ;
void require_one_size_without_crop(const Config& data, const std::vector<std::vector<int64_t>>& sizes,
                                   const std::vector<std::string>& names);
template <class Split>
void require_one_size_without_crop(const Config& data, const change::ChangeAugmentOptions& augment, const Split& train) {
  if (augment.crop != 0 || train.generator) return;
  std::vector<std::vector<int64_t>> sizes;
  for (const auto& p : train.stored) sizes.push_back(p.a.sizes().vec());
  require_one_size_without_crop(data, sizes, train.names);
}

// a training batch: each index's pair of `split` through `augment(pair, rng)` with the
// micro-batch seed's stream; dates stacked as uint8 [B, 2, 3, h, w] (a quarter of the bytes to
// the device; normalised there) and `targets(augmented pair)` stacked as long;
template <class Split, class Augment, class Targets>
Batch augmented_pair_batch(const Split& split, const std::vector<int64_t>& indices, uint64_t seed,
                           Augment augment, Targets targets) {
  std::vector<at::Tensor> dates, labels;
  for (size_t k = 0; k < indices.size(); ++k) {
    AugmentRng rng(mix_seed(seed, k));
    const auto p = augment(split.at(indices[k]), rng);
    dates.push_back(at::stack({p.a, p.b}));
    labels.push_back(targets(p));
  }
  return {at::stack(dates), at::stack(labels).to(at::kLong)};
}

// validation in batches of consecutive pairs of one size (a pair has dates .a and .b):
// f(begin, end, pre [n, 3, H, W], post) for each batch [begin, end).
template <class Pair>
void for_each_eval_batch(const std::vector<Pair>& pairs, int64_t batch_size,
                         const std::function<void(int64_t, int64_t, const at::Tensor&, const at::Tensor&)>& f) {
  const auto n = static_cast<int64_t>(pairs.size());
  for (int64_t start = 0; start < n;) {
    int64_t end = start + 1;
    while (end < n && end - start < batch_size && pairs[end].a.sizes() == pairs[start].a.sizes()) ++end;
    std::vector<at::Tensor> pre, post;
    for (int64_t i = start; i < end; ++i) {
      pre.push_back(pairs[i].a);
      post.push_back(pairs[i].b);
    }
    f(start, end, at::stack(pre), at::stack(post));
    start = end;
  }
}

std::shared_ptr<Task> make_change_task(const Config& node, const Config& root, c10::Device device);

}  // namespace vss
