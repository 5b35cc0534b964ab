#include "engine/batch_prefetcher.h"

#include "core/error.h"

namespace vss {

BatchPrefetcher::BatchPrefetcher(MakeBatch make, int64_t first, int64_t end, size_t capacity)
    : make_(std::move(make)), next_make_(first), end_(end), taken_(first), capacity_(capacity < 1 ? 1 : capacity) {
  worker_ = std::thread([this] { work(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void BatchPrefetcher::work() {
  while (true) {
    int64_t k;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return stop_ || queue_.size() < capacity_; });
      if (stop_ || next_make_ >= end_) return;
      k = next_make_;
    }
    Batch batch;
    try {
      batch = make_(k);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      changed_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(batch));
      ++next_make_;
    }
    changed_.notify_all();
  }
}

Batch BatchPrefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (taken_ >= end_) throw Error("batch prefetcher: batch " + std::to_string(taken_) + " is past the end");
  changed_.wait(lock, [this] { return !queue_.empty() || error_; });
  if (queue_.empty()) std::rethrow_exception(error_);
  Batch batch = std::move(queue_.front());
  queue_.pop_front();
  ++taken_;
  changed_.notify_all();
  return batch;
}

}  // namespace vss
