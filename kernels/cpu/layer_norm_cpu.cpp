// CPU kernels of vss::layer_norm and its backward: the references the CUDA kernels are held to.
// One row at a time in float64 (two passes: mean, then the biased variance of the deviations),
// cast once at the end. Plain and slow on purpose; the CPU models keep at::layer_norm.
#include "kernels/layer_norm_checks.h"

#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <cmath>
#include <tuple>

namespace vss {
namespace {

// x as float64 rows of C contiguous values: the channel-first layout moves C last first.
at::Tensor float64_rows(const at::Tensor& x, bool channel_first) {
  return (channel_first ? x.movedim(1, -1) : x).to(at::kDouble).contiguous();
}

struct RowStats {
  double mean, rstd;
};

RowStats row_stats(const double* xr, int64_t C, double eps) {
  double mean = 0.0, var = 0.0;
  for (int64_t c = 0; c < C; ++c) mean += xr[c];
  mean /= static_cast<double>(C);
  for (int64_t c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
  return {mean, 1.0 / std::sqrt(var / static_cast<double>(C) + eps)};
}

at::Tensor layer_norm_cpu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                          double eps, bool channel_first, std::optional<at::ScalarType> out_dtype) {
  const LayerNormSizes s = check_layer_norm_args(x, weight, bias, eps, channel_first, out_dtype);
  const at::Tensor rows = float64_rows(x, channel_first);
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
      const RowStats st = row_stats(xr, C, eps);
      for (int64_t c = 0; c < C; ++c) yp[r * C + c] = (xr[c] - st.mean) * st.rstd * wp[c] + bp[c];
    }
  });
  return out.view(layer_norm_out_shape(x, channel_first)).to(out_dtype.value_or(x.scalar_type()));
}

// With x̂ = (x - mean)·rstd and g = weight·dy, per row:
//   dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) [+ residual_grad],  and over all rows
//   dweight = Σ dy·x̂, dbias = Σ dy.
std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward_cpu(
    const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weight, double eps, bool channel_first,
    const std::optional<at::Tensor>& residual_grad) {
  const LayerNormSizes s = check_layer_norm_backward_args(dy, x, weight, eps, channel_first, residual_grad);
  const at::Tensor rows = float64_rows(x, channel_first);
  const at::Tensor grad = dy.to(at::kDouble).contiguous();  // already channel-last
  const at::Tensor w = weight.to(at::kDouble).contiguous();
  at::Tensor dx = at::empty_like(rows), xhat = at::empty_like(rows);
  const int64_t C = s.channels;
  const double* xp = rows.const_data_ptr<double>();
  const double* gp = grad.const_data_ptr<double>();
  const double* wp = w.const_data_ptr<double>();
  double* dxp = dx.mutable_data_ptr<double>();
  double* hp = xhat.mutable_data_ptr<double>();
  at::parallel_for(0, s.rows, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const RowStats st = row_stats(xp + r * C, C, eps);
      double* h = hp + r * C;
      const double* dyr = gp + r * C;
      double mean_g = 0.0, mean_gh = 0.0;
      for (int64_t c = 0; c < C; ++c) {
        h[c] = (xp[r * C + c] - st.mean) * st.rstd;
        mean_g += wp[c] * dyr[c];
        mean_gh += wp[c] * dyr[c] * h[c];
      }
      mean_g /= static_cast<double>(C);
      mean_gh /= static_cast<double>(C);
      for (int64_t c = 0; c < C; ++c) dxp[r * C + c] = st.rstd * (wp[c] * dyr[c] - mean_g - h[c] * mean_gh);
    }
  });
  if (residual_grad && residual_grad->defined()) dx += float64_rows(*residual_grad, channel_first);
  const at::Tensor grad_rows = grad.view({s.rows, C});
  const at::Tensor dweight = (grad_rows * xhat.view({s.rows, C})).sum(0).to(weight.scalar_type());
  const at::Tensor dbias = grad_rows.sum(0).to(weight.scalar_type());
  at::Tensor dx_shaped = dx.view(layer_norm_out_shape(x, channel_first));
  if (channel_first) dx_shaped = dx_shaped.movedim(-1, 1).contiguous();
  return {dx_shaped.to(x.scalar_type()), dweight, dbias};
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("layer_norm", &layer_norm_cpu);
  m.impl("layer_norm_backward", &layer_norm_backward_cpu);
}

}  // namespace vss
