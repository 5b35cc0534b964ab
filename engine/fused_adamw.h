#pragma once
// AdamW as torch::optim::AdamW computes it, in one multi-tensor launch per parameter group
// and device/dtype (ATen's _fused_adamw_, the kernel behind PyTorch's `AdamW(fused=True)`)
// instead of six to eight launches per parameter: VMamba-T has ~250 parameter tensors, so the
// per-parameter loop spent more time launching kernels than the GPU spent updating.
// Options and per-parameter state are AdamW's own (AdamWOptions, AdamWParamState), so
// checkpoints (engine/optimizer.h optimizer_state) read and restore it unchanged. No amsgrad.
#include <torch/optim/adamw.h>

#include <unordered_map>
#include <vector>

namespace vss {

class FusedAdamW : public torch::optim::AdamW {
 public:
  FusedAdamW(const std::vector<torch::optim::OptimizerParamGroup>& groups, torch::optim::AdamWOptions defaults);
  at::Tensor step(LossClosure closure = nullptr) override;

 private:
  // The step counts as float tensors on each parameter's device (what the fused kernel reads),
  // mirrored from AdamWParamState::step so a restored state is picked up.
  struct DeviceStep {
    at::Tensor value;
    int64_t mirrors = -1;
  };
  std::unordered_map<void*, DeviceStep> device_steps_;
};

}  // namespace vss
