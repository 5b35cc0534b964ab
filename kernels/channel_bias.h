#pragma once
// A per-channel bias on a channel-last map: vss::add_channel_bias(x [..., C], bias [C]) = x +
// bias, in x's dtype (the sum formed in float32; float64 for float64). CPU reference + CUDA
// kernel, differentiable: x's gradient is dout, the bias's the column sums of dout
// (vss::column_sum). For the convs VMamba trains in bf16 on channel-last maps (the stem and the
// downsampling): ATen adds their bias as a broadcast over a channels_last result, a kernel that
// cannot use vector loads (0.22 ms for the stem's first conv at VMamba-T b128), and sums the
// bias gradient at 0.3 TB/s.
#include <ATen/core/Tensor.h>

namespace vss {

at::Tensor add_channel_bias(const at::Tensor& x, const at::Tensor& bias);

}  // namespace vss
