// The sampler's epochs are permutations, and the prefetcher hands batches over in order
// whatever the worker's timing, and passes its errors on.
#include "core/error.h"
#include "engine/batch_prefetcher.h"
#include "engine/batch_sampler.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace {

TEST(BatchSampler, EachEpochIsAPermutationAndBatchesAreReproducible) {
  vss::BatchSampler sampler(10, 4, 7);
  std::vector<int64_t> stream;
  for (int64_t k = 0; k < 5; ++k)
    for (int64_t i : sampler.indices(k)) stream.push_back(i);
  ASSERT_EQ(stream.size(), 20u);
  const std::set<int64_t> epoch0(stream.begin(), stream.begin() + 10), epoch1(stream.begin() + 10, stream.end());
  EXPECT_EQ(epoch0.size(), 10u);
  EXPECT_EQ(epoch1.size(), 10u);
  EXPECT_NE(std::vector<int64_t>(stream.begin(), stream.begin() + 10),
            std::vector<int64_t>(stream.begin() + 10, stream.end()));
  vss::BatchSampler again(10, 4, 7);
  EXPECT_EQ(again.indices(3), sampler.indices(3));  // random access, same answer
  EXPECT_NE(vss::BatchSampler(10, 4, 8).indices(0), sampler.indices(0));
  EXPECT_THROW(vss::BatchSampler(0, 4, 1), vss::Error);
}

TEST(BatchSampler, RanksTakeDisjointSlicesOfTheSingleProcessBatch) {
  // 3 ranks of 3 samples = one process with batches of 9, over a set of 10 (batches straddle
  // epochs); the union over ranks of each global batch is that process's batch, in order.
  vss::BatchSampler single(10, 9, 5);
  std::vector<vss::BatchSampler> ranks;
  for (int r = 0; r < 3; ++r) ranks.emplace_back(10, 3, 5, r, 3);
  for (int64_t k = 0; k < 7; ++k) {
    std::vector<int64_t> joined;
    for (auto& rank : ranks)
      for (int64_t i : rank.indices(k)) joined.push_back(i);
    EXPECT_EQ(joined, single.indices(k)) << "batch " << k;
  }
  EXPECT_THROW(vss::BatchSampler(10, 3, 5, 3, 3), vss::Error);
  EXPECT_THROW(vss::BatchSampler(10, 3, 5, -1, 2), vss::Error);
}

TEST(BatchPrefetcher, InOrderAndErrorsPassedOn) {
  {
    vss::BatchPrefetcher loader(
        [](int64_t k) {
          if (k % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
          return vss::Batch{torch::full({1}, static_cast<double>(k)), torch::Tensor()};
        },
        5, 25, 3);
    for (int64_t k = 5; k < 25; ++k) EXPECT_EQ(loader.next().inputs.item<double>(), k);
    EXPECT_THROW(loader.next(), vss::Error);
  }
  vss::BatchPrefetcher failing(
      [](int64_t k) -> vss::Batch {
        if (k == 2) throw std::runtime_error("sample 2 is unreadable");
        return {torch::zeros({1}), torch::Tensor()};
      },
      0, 10, 2);
  failing.next();
  failing.next();
  EXPECT_THROW(failing.next(), std::runtime_error);
  // Four workers, uneven timing: still in order, never more than `capacity` ahead.
  {
    std::mutex m;
    int64_t highest = -1;
    int64_t consumed = 0;
    vss::BatchPrefetcher pool(
        [&](int64_t k) {
          std::this_thread::sleep_for(std::chrono::microseconds(200 * ((k * 7) % 5)));
          std::lock_guard<std::mutex> lock(m);
          highest = std::max(highest, k);
          EXPECT_LT(k, consumed + 3 + 1) << "made beyond the window";  // +1: the one being taken
          return vss::Batch{torch::full({1}, static_cast<double>(k)), torch::Tensor()};
        },
        0, 40, 3, 4);
    for (int64_t k = 0; k < 40; ++k) {
      EXPECT_EQ(pool.next().inputs.item<double>(), k);
      std::lock_guard<std::mutex> lock(m);
      consumed = k + 1;
    }
    EXPECT_EQ(highest, 39);
  }
  // Destroying a prefetcher whose consumer stopped early must not hang.
  vss::BatchPrefetcher abandoned([](int64_t) { return vss::Batch{torch::zeros({1}), torch::Tensor()}; }, 0, 1000, 2);
  abandoned.next();
}

}  // namespace
