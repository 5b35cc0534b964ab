#include "engine/batch_prefetcher.h"

#include "core/error.h"

namespace vss {

BatchPrefetcher::BatchPrefetcher(MakeBatch make, int64_t first, int64_t end, size_t capacity, size_t workers)
    : make_(std::move(make)), next_make_(first), end_(end), taken_(first), capacity_(capacity < 1 ? 1 : capacity) {
  for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) workers_.emplace_back([this] { work(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  for (auto& w : workers_) w.join();
}

void BatchPrefetcher::work() {
  while (true) {
    int64_t k;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // The window: batches taken_ .. taken_ + capacity - 1 may exist or be in the making.
      changed_.wait(lock, [this] {
        return stop_ || next_make_ >= end_ || next_make_ < taken_ + static_cast<int64_t>(capacity_);
      });
      if (stop_ || next_make_ >= end_) return;
      k = next_make_++;
    }
    Batch batch;
    std::exception_ptr error;
    try {
      batch = make_(k);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error)
        errors_[k] = error;
      else
        ready_.emplace(k, std::move(batch));
    }
    changed_.notify_all();
  }
}

Batch BatchPrefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (taken_ >= end_) throw Error("batch prefetcher: batch " + std::to_string(taken_) + " is past the end");
  changed_.wait(lock, [this] { return ready_.count(taken_) || errors_.count(taken_); });
  if (auto e = errors_.find(taken_); e != errors_.end()) std::rethrow_exception(e->second);
  auto it = ready_.find(taken_);
  Batch batch = std::move(it->second);
  ready_.erase(it);
  ++taken_;
  changed_.notify_all();
  return batch;
}

}  // namespace vss
