#include "backbones/ss2d_sequence_core.h"

#include "kernels/dt_projection.h"
#include "kernels/selective_scan.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

namespace vss {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SequenceCoreFunction : public torch::autograd::Function<SequenceCoreFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& xs, const at::Tensor& x_proj_weight,
                            const at::Tensor& dt_projs_weight, const at::Tensor& A, const at::Tensor& Ds,
                            const at::Tensor& delta_bias) {
    // The products run in xs' dtype (what autocast gives the official code), the scan's state in float32.
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const int64_t B = xs.size(0), K = xs.size(1), Dn = xs.size(2), L = xs.size(3);
    const int64_t R = dt_projs_weight.size(2), N = A.size(1);
    const at::Tensor wx = x_proj_weight.to(xs.scalar_type());
    const at::Tensor x_dbl = at::matmul(wx, xs);  // [B, K, R + 2N, L]
    const at::Tensor dts = dt_projection(x_dbl.narrow(2, 0, R), dt_projs_weight);
    const at::Tensor Bs = x_dbl.narrow(2, R, N).contiguous(), Cs = x_dbl.narrow(2, R + N, N).contiguous();
    const at::Tensor u = xs.reshape({B, K * Dn, L}), delta = dts.view({B, K * Dn, L});
    // The scan's checkpoints spare its backward a pass over u and Δ.
    const auto scan = selective_scan_checkpointed(u, delta, A, Bs, Cs, Ds, delta_bias, /*delta_softplus=*/true,
                                                  /*return_last_state=*/false, xs.scalar_type());
    const at::Tensor& y = std::get<0>(scan);
    ctx->save_for_backward({u, wx, dt_projs_weight, A, Ds, delta_bias, x_dbl, delta, Bs, Cs, std::get<2>(scan)});
    ctx->saved_data["x_proj_dtype"] = x_proj_weight.scalar_type();
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list s = ctx->get_saved_variables();
    const at::Tensor &u = s[0], &wx = s[1], &wdt = s[2], &A = s[3], &Ds = s[4], &delta_bias = s[5];
    const at::Tensor &x_dbl = s[6], &delta = s[7], &Bs = s[8], &Cs = s[9], &checkpoints = s[10];
    const int64_t B = x_dbl.size(0), K = x_dbl.size(1), P = x_dbl.size(2), L = x_dbl.size(3);
    const int64_t Dn = wdt.size(1), R = wdt.size(2), N = A.size(1);
    auto [du, ddelta, dA, dB, dC, dD, ddelta_bias] =
        selective_scan_backward(grads[0].contiguous(), u, delta, A, Bs, Cs, Ds, delta_bias, /*delta_softplus=*/true,
                                checkpoints);
    // The projection rows' gradient in place: dt_proj's input gradient, then dB, dC.
    const at::Tensor ddts = ddelta.view({B, K, Dn, L});
    at::Tensor dx_dbl = at::empty_like(x_dbl);
    const at::ScalarType t = dx_dbl.scalar_type();
    const at::Tensor wdt_t =
        wdt.to(ddts.scalar_type()).transpose(1, 2).unsqueeze(0).expand({B, K, R, Dn}).reshape({B * K, R, Dn});
    at::Tensor drank = dx_dbl.narrow(2, 0, R).view({B * K, R, L});  // strided batches: bmm writes them in place
    at::bmm_out(drank, wdt_t, ddts.reshape({B * K, Dn, L}));
    dx_dbl.narrow(2, R, N).copy_(dB);
    dx_dbl.narrow(2, R + N, N).copy_(dC);
    const at::Tensor ddt_weight = dt_projection_weight_grad(ddts, x_dbl.narrow(2, 0, R), wdt.scalar_type());
    const at::Tensor dx_weight =
        at::matmul(dx_dbl, u.view({B, K, Dn, L}).transpose(2, 3)).sum(0, false, ctx->saved_data["x_proj_dtype"].toScalarType());
    // dxs = du + x_projᵀ · dx_dbl, the sum formed by the GEMM (beta = 1) in du's buffer.
    at::Tensor dxs = du.to(t).view({B * K, Dn, L});
    const at::Tensor wxt = wx.transpose(1, 2).unsqueeze(0).expand({B, K, Dn, P}).reshape({B * K, Dn, P});
    dxs.baddbmm_(wxt, dx_dbl.view({B * K, P, L}));
    return {dxs.view({B, K, Dn, L}), dx_weight, ddt_weight, dA.to(A.scalar_type()), dD.to(Ds.scalar_type()),
            ddelta_bias.to(delta_bias.scalar_type())};
  }
};

}  // namespace

at::Tensor ss2d_sequence_core(const at::Tensor& xs, const at::Tensor& x_proj_weight,
                              const at::Tensor& dt_projs_weight, const at::Tensor& A, const at::Tensor& Ds,
                              const at::Tensor& delta_bias) {
  return SequenceCoreFunction::apply(xs, x_proj_weight, dt_projs_weight, A, Ds, delta_bias);
}

}  // namespace vss
