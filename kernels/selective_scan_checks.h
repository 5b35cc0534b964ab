#pragma once
// Argument validation shared by every selective-scan kernel (CPU and CUDA, plain and
// plan-driven op), so each device rejects the same inputs with the same one-line message:
//   "vss::selective_scan: B must have shape [2, 4, 1, 3136] (batch, K, N, L), got [2, 4, 3136]"
// Each failure is a TORCH_CHECK (c10::Error) naming the argument, expected vs actual.
//
// What is checked: ranks, every size against the others, dtypes (u, delta, B, C share one of
// float32 / float16 / bfloat16 / float64; A, D, delta_bias are float32, or float64 with float64
// inputs), one device for all tensors, K·D divisible by K, N in 1..kMaxScanState, batch,
// channels and length >= 1.
// What is not: contiguity. Kernels call .contiguous() (a no-op on the layouts the scans layer
// produces; one copy otherwise), so strided views such as B/C split out of x_dbl just work.
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss {

inline constexpr int64_t kMaxScanState = 256;

// Sizes of one scan call. The plain op has tokens == length; the plan op scans `length`
// steps (index.size(1)) over an image of `tokens` = H·W positions.
struct ScanSizes {
  int64_t batch = 0;
  int64_t channels = 0;  // K·D
  int64_t groups = 0;    // K: B and C are shared by the D channels of a group
  int64_t dim = 0;       // D
  int64_t state = 0;     // N
  int64_t length = 0;    // L
  int64_t tokens = 0;    // H·W
};

// vss::selective_scan: u, delta [batch, K·D, L]; A [K·D, N]; B, C [batch, K, N, L];
// D, delta_bias [K·D]. `op` prefixes the messages (e.g. "vss::selective_scan").
ScanSizes check_selective_scan_args(const char* op, const at::Tensor& u, const at::Tensor& delta,
                                    const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                                    const std::optional<at::Tensor>& D,
                                    const std::optional<at::Tensor>& delta_bias);

// vss::selective_scan_plan: u [batch, D, H·W]; delta [batch, K·D, H·W]; B, C [batch, K, N, H·W];
// A [K·D, N]; D, delta_bias [K·D]; index [K, L] int32; merge_weight [H·W] (A's dtype).
// The index values (-1 or 0..H·W-1) are the caller's contract (ScanPlan builds them so);
// they are not read here, which would need a device sync.
ScanSizes check_selective_scan_plan_args(const char* op, const at::Tensor& u,
                                         const at::Tensor& delta, const at::Tensor& A,
                                         const at::Tensor& B, const at::Tensor& C,
                                         const std::optional<at::Tensor>& D,
                                         const std::optional<at::Tensor>& delta_bias,
                                         const at::Tensor& index,
                                         const std::optional<at::Tensor>& merge_weight);

// vss::selective_scan_plan_channels_last: the same tensors channel-last, u [batch, H·W, D];
// delta [batch, H·W, K·D] (direction k's channels at k·D ..); B, C [batch, H·W, K, N]; the
// rest as above. Checks these layouts, then everything else as the channel-first op does.
ScanSizes check_selective_scan_plan_channels_last_args(
    const char* op, const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A,
    const at::Tensor& B, const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, const at::Tensor& index,
    const std::optional<at::Tensor>& merge_weight);

// What the CUDA plan kernels add to the checks above: N <= kMaxCudaScanState, no float64
// (CPU-only), H·W below 2^31 (int32 token ids).
inline constexpr int64_t kMaxCudaScanState = 16;
void check_plan_cuda_args(const char* op, const ScanSizes& s, const at::Tensor& u);

// The upstream gradient of a backward op: shape `expected` (out's shape), any floating dtype
// (out_dtype may differ from the inputs), u's device.
void check_scan_dout(const char* op, const at::Tensor& dout, at::IntArrayRef expected,
                     const at::Tensor& u);

// The forward's checkpoints handed to the backward (vss::selective_scan_checkpointed): absent,
// or float32 [B, K·D, T, N] on u's device for any T (T = 0: none kept). Returns the contiguous
// tensor, or an undefined one when absent.
at::Tensor check_scan_checkpoints(const char* op, const std::optional<at::Tensor>& checkpoints,
                                  const ScanSizes& s, const at::Tensor& u);

// out_dtype, when given, must be float32, float16, bfloat16 or float64.
void check_scan_out_dtype(const char* op, std::optional<at::ScalarType> out_dtype);

// float32 for float32 / float16 / bfloat16 inputs, float64 for float64 inputs: the dtype of
// the state math, of A, D, delta_bias and of their gradients.
at::ScalarType scan_param_dtype(at::ScalarType input_dtype);

}  // namespace vss
