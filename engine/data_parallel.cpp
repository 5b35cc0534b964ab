#include "engine/data_parallel.h"

#include "core/error.h"

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

namespace vss {

void broadcast_model_state(ProcessGroup& group, torch::nn::Module& model, int root) {
  torch::NoGradGuard no_grad;
  auto send = [&](const at::Tensor& t) {
    if (t.is_contiguous()) {
      at::Tensor view = t.detach();
      group.broadcast(view, root);
    } else {
      at::Tensor copy = t.detach().contiguous();
      group.broadcast(copy, root);
      t.detach().copy_(copy);
    }
  };
  for (const auto& p : model.parameters()) send(p);
  for (const auto& b : model.buffers()) send(b);
}

namespace {

// Tells the reducer that parameter `index` has its gradient for this backward.
class ReadyHook : public torch::autograd::PostAccumulateGradHook {
 public:
  ReadyHook(std::function<void(size_t)> ready, size_t index) : ready_(std::move(ready)), index_(index) {}
  void operator()(const torch::autograd::Variable& /*param*/) override { ready_(index_); }

 private:
  std::function<void(size_t)> ready_;
  size_t index_;
};

}  // namespace

GradientReducer::GradientReducer(ProcessGroup& group, torch::nn::Module& model, int64_t bucket_bytes)
    : group_(group) {
  for (const auto& p : model.parameters())
    if (p.requires_grad()) {
      if (p.device() != group.device())
        throw Error("data-parallel training: a parameter is on " + p.device().str() + ", the process group on " +
                    group.device().str());
      params_.push_back(p);
    }
  bucket_of_.assign(params_.size(), 0);
  has_grad_.assign(params_.size(), 0);
  // Reverse order: backward finishes the last layers first, so their bucket can go first.
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const at::Tensor& p = params_[k];
    const bool fits = !buckets_.empty() && bytes + static_cast<int64_t>(p.nbytes()) <= bucket_bytes &&
                      params_[buckets_.back().members.front()].scalar_type() == p.scalar_type();
    if (!fits) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    b.offsets.push_back(b.members.empty() ? 0 : b.offsets.back() + params_[b.members.back()].numel());
    b.members.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += static_cast<int64_t>(p.nbytes());
  }
  for (Bucket& b : buckets_) {
    const at::Tensor& last = params_[b.members.back()];
    b.flat = torch::empty({b.offsets.back() + last.numel()}, last.options().requires_grad(false));
  }
  for (size_t k = 0; k < params_.size(); ++k)
    torch::autograd::impl::set_post_acc_grad_hooks(
        params_[k], std::make_unique<ReadyHook>([this](size_t i) { on_gradient(i); }, k));
}

GradientReducer::~GradientReducer() {
  for (const auto& p : params_) torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
}

void GradientReducer::prepare(bool last) {
  std::lock_guard<std::mutex> lock(mutex_);
  syncing_ = last;
}

void GradientReducer::on_gradient(size_t param) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!syncing_ || has_grad_[param]) return;
  has_grad_[param] = 1;
  Bucket& b = buckets_[bucket_of_[param]];
  if (b.pending)
    throw Error("data-parallel training: a gradient arrived after its bucket was reduced (a parameter used twice "
                "in one backward through a retained graph?)");
  ++b.ready;
  launch_ready_in_order();
}

void GradientReducer::launch_ready_in_order() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready == buckets_[next_launch_].members.size())
    launch(buckets_[next_launch_++]);
}

void GradientReducer::launch(Bucket& b) {
  torch::NoGradGuard no_grad;
  for (size_t j = 0; j < b.members.size(); ++j) {
    const at::Tensor& p = params_[b.members[j]];
    at::Tensor slot = b.flat.slice(0, b.offsets[j], b.offsets[j] + p.numel()).view(p.sizes());
    const at::Tensor& g = p.grad();
    if (g.defined()) {
      slot.copy_(g);
    } else {
      slot.zero_();  // unused on this rank: contributes nothing to the sum
    }
  }
  b.pending = group_.all_reduce_sum(b.flat);
}

void GradientReducer::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  // Which parameters have a gradient on any rank: those that have none anywhere keep none.
  at::Tensor used = torch::zeros({static_cast<int64_t>(params_.size())},
                                 torch::TensorOptions().dtype(torch::kFloat).device(group_.device()));
  {
    std::vector<float> local(params_.size());
    for (size_t k = 0; k < params_.size(); ++k) local[k] = params_[k].grad().defined() ? 1.f : 0.f;
    used.copy_(torch::tensor(local));
  }
  launched_early_ = next_launch_;
  while (next_launch_ < buckets_.size()) launch(buckets_[next_launch_++]);
  group_.all_reduce_sum(used)->wait();
  const at::Tensor used_cpu = used.cpu();
  const float* used_any = used_cpu.data_ptr<float>();

  torch::NoGradGuard no_grad;
  const double scale = 1.0 / static_cast<double>(group_.size());
  for (Bucket& b : buckets_) {
    b.pending->wait();
    b.pending.reset();
    b.ready = 0;
    b.flat.mul_(scale);
    for (size_t j = 0; j < b.members.size(); ++j) {
      const size_t k = b.members[j];
      at::Tensor& p = params_[k];
      if (used_any[k] == 0.f) continue;
      at::Tensor mean = b.flat.slice(0, b.offsets[j], b.offsets[j] + p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(mean);
      } else {
        p.mutable_grad() = mean.clone();
      }
    }
  }
  std::fill(has_grad_.begin(), has_grad_.end(), 0);
  next_launch_ = 0;
  syncing_ = false;
}

}  // namespace vss
