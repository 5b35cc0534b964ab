#pragma once
// What makes N ranks train one model (DDP-style): the same starting weights on every rank,
// and gradients averaged over ranks before each optimizer step, so the ranks stay identical
// and each step is the step of one process on the union of the ranks' batches.
#include "engine/distributed.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace torch::nn {
class Module;
}

namespace vss {

// Parameters and buffers from `root` to every rank (in place).
void broadcast_model_state(ProcessGroup& group, torch::nn::Module& model, int root = 0);

// Averages the gradients of the model's trainable parameters over the ranks. Parameters are
// packed (in reverse order, as backward produces them) into buckets of about `bucket_bytes`;
// a post-accumulate-grad hook on each parameter launches a bucket's all-reduce as soon as its
// last gradient is in, so communication overlaps the rest of backward. Buckets are launched
// in bucket order on every rank, which is what makes the collectives match across ranks.
// A parameter with no gradient on some rank counts as zeros there; one with no gradient on
// any rank keeps none, as in a single process (the optimizer then skips it).
class GradientReducer {
 public:
  GradientReducer(ProcessGroup& group, torch::nn::Module& model, int64_t bucket_bytes = 25 << 20);
  ~GradientReducer();  // removes the hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before each micro-batch's backward: `last` for the last micro-batch of the step (its
  // backward launches the all-reduces; the earlier ones only accumulate locally).
  void prepare(bool last);
  // After the last backward: launches what is left, waits, writes the averages into .grad.
  void finish();

  size_t num_buckets() const { return buckets_.size(); }
  // Of the last finished step's buckets, how many backward launched (the rest: finish()).
  size_t launched_during_backward() const { return launched_early_; }

 private:
  struct Bucket {
    std::vector<size_t> members;   // indices into params_
    std::vector<int64_t> offsets;  // element offset of each member in `flat`
    at::Tensor flat;
    size_t ready = 0;
    std::unique_ptr<PendingCollective> pending;
  };
  void on_gradient(size_t param);  // called by the hooks
  void launch(Bucket& bucket);
  void launch_ready_in_order();

  ProcessGroup& group_;
  std::vector<at::Tensor> params_;
  std::vector<size_t> bucket_of_;
  std::vector<char> has_grad_;
  std::vector<Bucket> buckets_;
  size_t next_launch_ = 0;
  size_t launched_early_ = 0;
  bool syncing_ = false;
  std::mutex mutex_;  // hooks may run on autograd's device threads
};

}  // namespace vss
