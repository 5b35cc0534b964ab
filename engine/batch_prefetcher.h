#pragma once
// Makes batches on worker threads ahead of the training loop, within a bounded window.
// Batches come out in order (k = first, first+1, ...) whichever worker made them, so with a
// deterministic `make` the stream is the same whatever the timing or the number of workers.
// With several workers `make` runs concurrently and must be thread-safe. A worker's exception
// is rethrown by next() when the consumer reaches that batch.
#include "engine/batch.h"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace vss {

class BatchPrefetcher {
 public:
  using MakeBatch = std::function<Batch(int64_t k)>;
  // Makes batches first .. end-1, at most `capacity` ahead of the consumer, on `workers` threads.
  BatchPrefetcher(MakeBatch make, int64_t first, int64_t end, size_t capacity, size_t workers = 1);
  ~BatchPrefetcher();  // stops and joins the workers
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  Batch next();  // error past `end`

 private:
  void work();
  MakeBatch make_;
  int64_t next_make_, end_, taken_;
  size_t capacity_;
  std::map<int64_t, Batch> ready_;
  std::map<int64_t, std::exception_ptr> errors_;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::thread> workers_;
};

}  // namespace vss
