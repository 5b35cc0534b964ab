#pragma once
// Column sums of a matrix: vss::column_sum(x [M, C]) = Σ_m x[m, :] in float32 (float64 for
// float64), the same bits every run. CPU: at::sum. CUDA: blocks take runs of whole rows with
// 16-byte loads (a warp reads consecutive columns of a row), sum them in float32 registers and
// write one partial row each; a second launch of the same kernel sums the partial rows in a
// fixed order (no atomics). For what ATen's reduction does slowly on these shapes: a Linear
// bias's gradient (rows = tokens, a few hundred columns, 16-bit: ATen ran at 0.8-1.8 TB/s, 2.8 ms
// of a VMamba-T training step) and the per-block partial sums of the LayerNorm backward
// (thousands of short float32 rows, where ATen's kernel was latency-bound).
#include <ATen/core/Tensor.h>

namespace vss {

// x [M, C] (any float dtype; M may be 0) -> [C].
at::Tensor column_sum(const at::Tensor& x);

}  // namespace vss
