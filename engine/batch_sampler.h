#pragma once
// Which dataset indices micro-batch k holds: the sample stream is epoch after epoch of a
// seeded permutation of [0, size), cut into batches that may straddle epochs. A pure
// function of (size, batch_size, seed, k), so a resumed run reads the same batches.
// Data-parallel: global batch k has batch_size * world_size samples and rank r takes the
// r-th slice of it, so the ranks together read exactly the batches of one process with
// batch_size * world_size (disjoint shards of the same permutation).
#include <cstdint>
#include <vector>

namespace vss {

class BatchSampler {
 public:
  BatchSampler(int64_t dataset_size, int64_t batch_size, uint64_t seed, int rank = 0, int world_size = 1);
  std::vector<int64_t> indices(int64_t batch);

 private:
  const std::vector<int64_t>& permutation(int64_t epoch);
  int64_t size_, batch_size_;
  int64_t rank_, world_size_;
  uint64_t seed_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> cached_;
};

}  // namespace vss
