#pragma once
// The selective scan (Mamba S6) in VMamba's layout, and its plan-driven ("virtual
// flatten") variant. Both are dispatcher ops (torch.ops.vss.*) with CPU and CUDA
// kernels and autograd; these functions are the C++ entry points.
//
//   dA = exp(Δ·A),  h_t = dA·h_{t-1} + Δ_t·B_t·u_t,  y_t = Σ_n C_t·h_t + D·u_t,
//   Δ = softplus(delta + delta_bias) when delta_softplus (else delta + delta_bias).
// State math is float32 for every input dtype (float32, float16, bfloat16).
#include <ATen/core/Tensor.h>

#include <optional>
#include <tuple>

namespace vss {

// u, delta [B, K·D, L]; A [K·D, N] (float32); B, C [B, K, N, L]; D, delta_bias [K·D]
// (float32). Returns (out [B, K·D, L] in out_dtype (default: u's dtype), last_state
// [B, K·D, N] float32 when return_last_state, else an undefined tensor). last_state is
// not differentiable. float64 inputs (for gradcheck) take float64 A, D, delta_bias and
// compute in float64. Argument rules and messages: kernels/selective_scan_checks.h.
std::tuple<at::Tensor, at::Tensor> selective_scan(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D = std::nullopt,
    const std::optional<at::Tensor>& delta_bias = std::nullopt, bool delta_softplus = false,
    bool return_last_state = false, std::optional<at::ScalarType> out_dtype = std::nullopt);

// selective_scan, plus `checkpoints` for its backward: float32 [B, K·D, T, N], the state
// entering each of T tiles of the device kernel, which spares the backward a pass over u
// and Δ. The CUDA N = 1 warp kernels keep them: tiles of 512 bytes of u (256 steps of
// bfloat16 / float16, 128 of float32), or a single tile where the row is no longer than
// that (checkpoint 0, the zero state, is stored too). T = 0 where the kernel keeps none
// (CPU, N > 1, too few rows for the warp kernels): the backward then recomputes them. Not
// differentiable itself: autograd's forward (and backbones/ss2d_sequence_core.h) call it.
std::tuple<at::Tensor, at::Tensor, at::Tensor> selective_scan_checkpointed(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D = std::nullopt,
    const std::optional<at::Tensor>& delta_bias = std::nullopt, bool delta_softplus = false,
    bool return_last_state = false, std::optional<at::ScalarType> out_dtype = std::nullopt);

// The gradients of selective_scan(u, delta, A, B, C, D, delta_bias, delta_softplus)'s out
// given dout: {du, ddelta, dA, dB, dC, dD, ddelta_bias}, each in its input's dtype; dD and
// ddelta_bias undefined when D and delta_bias are absent. `checkpoints`: what
// selective_scan_checkpointed returned for the same inputs, or none. Autograd calls it;
// public for code that owns a larger autograd node around the scan
// (backbones/ss2d_sequence_core.h).
using SelectiveScanGrads = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>;
SelectiveScanGrads selective_scan_backward(const at::Tensor& dout, const at::Tensor& u, const at::Tensor& delta,
                                           const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                                           const std::optional<at::Tensor>& D,
                                           const std::optional<at::Tensor>& delta_bias, bool delta_softplus,
                                           const std::optional<at::Tensor>& checkpoints = std::nullopt);

// Plan-driven scan over an image: the K direction sequences are gathered through
// index [K, L] (int32 token ids into the H·W image, -1 = padding step with u = 0,
// raw delta = 0, B = C = 0) inside the kernel, and the K outputs are scattered back and
// summed (times merge_weight [H·W] when given) in the same pass.
//   u [B, D, HW] (shared by the K directions); delta [B, K·D, HW] and B, C [B, K, N, HW]
//   in image (token) order; A [K·D, N]; D, delta_bias [K·D]. Returns y [B, D, HW].
at::Tensor selective_scan_plan(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, const at::Tensor& index,
    const std::optional<at::Tensor>& merge_weight = std::nullopt, bool delta_softplus = false,
    std::optional<at::ScalarType> out_dtype = std::nullopt);

// The plan-driven scan on channel-last tensors, for inference (no autograd): the same
// semantics with u [B, HW, D], delta [B, HW, K·D], B, C [B, HW, K, N]; returns y [B, HW, D].
// On CUDA a warp owns 32 consecutive channels, so every step of any direction reads
// contiguous memory: the fast layout for maps too large for the channel-first kernels'
// shared-memory rows. The CPU kernel permutes to the channel-first op.
at::Tensor selective_scan_plan_channels_last(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, const at::Tensor& index,
    const std::optional<at::Tensor>& merge_weight = std::nullopt, bool delta_softplus = false,
    std::optional<at::ScalarType> out_dtype = std::nullopt);

}  // namespace vss
