#pragma once
// Makes batches on a worker thread ahead of the training loop, through a bounded queue.
// Batches come out in order (k = first, first+1, ...), so with a deterministic `make`
// the stream is the same whatever the timing. A worker exception is rethrown by next().
#include "engine/batch.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace vss {

class BatchPrefetcher {
 public:
  using MakeBatch = std::function<Batch(int64_t k)>;
  // Makes batches first .. end-1, at most `capacity` ahead of the consumer.
  BatchPrefetcher(MakeBatch make, int64_t first, int64_t end, size_t capacity);
  ~BatchPrefetcher();  // stops and joins the worker
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  Batch next();  // error past `end`

 private:
  void work();
  MakeBatch make_;
  int64_t next_make_, end_, taken_;
  size_t capacity_;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread worker_;
};

}  // namespace vss
