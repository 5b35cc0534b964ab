#pragma once
// The selective scan over an image through a scan plan (DESIGN.md §2): each direction scans
// its own token order and the K outputs are merged back into the image.
//   u [B, D, H, W] (shared by the directions); delta [B, K·D, H, W] and B, C [B, K, N, H, W]
//   per direction in image layout; A [K·D, N]; D, delta_bias [K·D]. Returns y [B, D, H, W].
// Padding steps (-1) see u = 0, raw delta = 0, B = C = 0 and their outputs are dropped.
#include "scans/scan_plan.h"

#include <optional>

namespace vss {

// The fused op (vss::selective_scan_plan): gathers and merges inside the kernel.
at::Tensor scan_2d(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A,
                   const at::Tensor& B, const at::Tensor& C, const std::optional<at::Tensor>& D,
                   const std::optional<at::Tensor>& delta_bias, const ScanPlan& plan,
                   bool delta_softplus = false, std::optional<at::ScalarType> out_dtype = std::nullopt);

// The fused op on channel-last tensors, for inference (vss::selective_scan_plan_channels_last,
// no autograd): u [B, H, W, D]; delta [B, H, W, K·D]; B, C [B, H, W, K, N]. Returns
// y [B, H, W, D]. On CUDA the fast layout for large maps (kernels/selective_scan.h).
at::Tensor scan_2d_channels_last(const at::Tensor& u, const at::Tensor& delta,
                                 const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                                 const std::optional<at::Tensor>& D,
                                 const std::optional<at::Tensor>& delta_bias,
                                 const ScanPlan& plan, bool delta_softplus = false,
                                 std::optional<at::ScalarType> out_dtype = std::nullopt);

// The oracle: flatten -> vss::selective_scan -> merge, with the K copies materialised.
at::Tensor scan_2d_unfused(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A,
                           const at::Tensor& B, const at::Tensor& C,
                           const std::optional<at::Tensor>& D,
                           const std::optional<at::Tensor>& delta_bias, const ScanPlan& plan,
                           bool delta_softplus = false,
                           std::optional<at::ScalarType> out_dtype = std::nullopt);

}  // namespace vss
