#include "heads/restore/mair_ss2d.h"

#include "backbones/activation.h"
#include "kernels/selective_scan.h"
#include "scans/flatten_merge.h"
#include "scans/scan_strategy.h"

#include <torch/torch.h>

namespace vss::restore {

MaIRSS2DImpl::MaIRSS2DImpl(SS2DOptions o) : SS2DImpl(std::move(o)) {
  TORCH_CHECK(options().gated, "MaIR SS2D needs the z gate (a forward_type without _noz)");
  gating = register_module("gating", SequenceShuffleAttention(options().d_inner(), options().scan->num_directions()));
}

at::Tensor MaIRSS2DImpl::forward(const at::Tensor& x) {
  const SS2DOptions& o = options();
  TORCH_CHECK(x.dim() == 4 && x.size(3) == o.d_model, "MaIR SS2D: expected input [B, H, W, ", o.d_model,
              "] (channel-last), got ", x.sizes());
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2);
  const int64_t K = x_proj_weight.size(0), Dn = o.d_inner(), R = dt_projs_weight.size(2), N = A_logs.size(1);
  const at::Tensor xz = in_proj->forward(x);
  const at::Tensor z = apply_activation(o.act, xz.narrow(3, Dn, Dn));
  at::Tensor u = xz.narrow(3, 0, Dn).permute({0, 3, 1, 2});
  if (conv2d) u = conv2d->forward(u);
  u = apply_activation(o.act, u);

  // As MaIR computes it: the K sequences are materialised (the per-direction outputs are
  // needed un-merged), projected per direction, scanned, and put back in image layout.
  const ScanPlan& plan = cached_plan(*o.scan, H, W, x.device());
  const int64_t L = plan.L;
  const at::Tensor xs = flatten(u, plan);  // [B, K, Dn, L]
  const at::Tensor x_dbl = at::einsum("kcd,bkdl->bkcl", {x_proj_weight.to(xs.scalar_type()), xs});
  const at::Tensor dts =
      at::einsum("kdr,bkrl->bkdl", {dt_projs_weight.to(xs.scalar_type()), x_dbl.narrow(2, 0, R)});
  // float32 state math for every autocast dtype; float64 stays float64 (gradient checks).
  const at::ScalarType st = u.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor y = std::get<0>(selective_scan(
      xs.to(st).reshape({B, K * Dn, L}), dts.to(st).reshape({B, K * Dn, L}), -torch::exp(A_logs.to(st)),
      x_dbl.narrow(2, R, N).to(st).contiguous(), x_dbl.narrow(2, R + N, N).to(st).contiguous(), Ds.to(st),
      dt_projs_bias.reshape({-1}).to(st), /*delta_softplus=*/true));
  const at::Tensor merged = gating->forward(unflatten(y.view({B, K, Dn, L}), plan));  // [B, Dn, H, W]
  // out_norm reads the channel-first map itself; its result meets z on the way to out_proj.
  const at::Tensor out = out_norm->forward_into_projection(merged, /*channel_first=*/true).to(x.scalar_type()) * z;
  return at::dropout(out_proj->forward(out), o.dropout, is_training());
}

}  // namespace vss::restore
