// CPU kernel of vss::layer_norm: the reference the CUDA kernel is held to. One row at a time
// in float64 (two passes: mean, then the biased variance of the deviations), cast once at the
// end. Plain and slow on purpose; the CPU models keep at::layer_norm.
#include "kernels/layer_norm_checks.h"

#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <cmath>

namespace vss {
namespace {

at::Tensor layer_norm_cpu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                          double eps, bool channel_first, std::optional<at::ScalarType> out_dtype) {
  const LayerNormSizes s = check_layer_norm_args(x, weight, bias, eps, channel_first, out_dtype);
  // Rows of C contiguous values: the channel-first layout moves C last first.
  const at::Tensor rows = (channel_first ? x.movedim(1, -1) : x).to(at::kDouble).contiguous();
  const at::Tensor w = weight.to(at::kDouble).contiguous();
  const at::Tensor b = bias.to(at::kDouble).contiguous();
  at::Tensor out = at::empty_like(rows);
  const int64_t C = s.channels;
  const double* xp = rows.const_data_ptr<double>();
  const double* wp = w.const_data_ptr<double>();
  const double* bp = b.const_data_ptr<double>();
  double* yp = out.mutable_data_ptr<double>();
  at::parallel_for(0, s.rows, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const double* xr = xp + r * C;
      double mean = 0.0, var = 0.0;
      for (int64_t c = 0; c < C; ++c) mean += xr[c];
      mean /= static_cast<double>(C);
      for (int64_t c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
      const double rstd = 1.0 / std::sqrt(var / static_cast<double>(C) + eps);
      for (int64_t c = 0; c < C; ++c) yp[r * C + c] = (xr[c] - mean) * rstd * wp[c] + bp[c];
    }
  });
  return out.view(layer_norm_out_shape(x, channel_first)).to(out_dtype.value_or(x.scalar_type()));
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, CPU, m) { m.impl("layer_norm", &layer_norm_cpu); }

}  // namespace vss
