#include "engine/batch_sampler.h"

#include "core/error.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace vss {

BatchSampler::BatchSampler(int64_t dataset_size, int64_t batch_size, uint64_t seed, int rank, int world_size)
    : size_(dataset_size), batch_size_(batch_size), rank_(rank), world_size_(world_size), seed_(seed) {
  if (dataset_size < 1) throw Error("training set is empty");
  if (batch_size < 1) throw Error("train.batch_size: must be >= 1, got " + std::to_string(batch_size));
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw Error("batch sampler: rank " + std::to_string(rank) + " of world size " + std::to_string(world_size));
}

const std::vector<int64_t>& BatchSampler::permutation(int64_t epoch) {
  if (epoch != cached_epoch_) {
    cached_.resize(static_cast<size_t>(size_));
    std::iota(cached_.begin(), cached_.end(), int64_t{0});
    // Fisher-Yates with our own index draws: std::shuffle's algorithm is library-defined.
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch));
    for (int64_t i = size_ - 1; i > 0; --i)
      std::swap(cached_[static_cast<size_t>(i)], cached_[rng() % static_cast<uint64_t>(i + 1)]);
    cached_epoch_ = epoch;
  }
  return cached_;
}

std::vector<int64_t> BatchSampler::indices(int64_t batch) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(batch_size_));
  for (int64_t j = 0; j < batch_size_; ++j) {
    const int64_t position = (batch * world_size_ + rank_) * batch_size_ + j;
    out.push_back(permutation(position / size_)[static_cast<size_t>(position % size_)]);
  }
  return out;
}

}  // namespace vss
