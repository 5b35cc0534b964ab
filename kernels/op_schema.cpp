// Every vss op's schema, in one place. Device kernels register with TORCH_LIBRARY_IMPL in
// their own files (selective_scan_cpu.cpp, selective_scan_cuda.cu, ...), autograd in
// *_autograd.cpp, as torchvision's csrc/ops does.
#include <torch/library.h>

TORCH_LIBRARY(vss, m) {
  m.def(
      "selective_scan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor? D=None, "
      "Tensor? delta_bias=None, bool delta_softplus=False, bool return_last_state=False, "
      "ScalarType? out_dtype=None) -> (Tensor out, Tensor last_state)");
  // selective_scan, plus what its backward can reuse (no autograd: autograd's forward calls it).
  m.def(
      "selective_scan_checkpointed(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, "
      "Tensor? D=None, Tensor? delta_bias=None, bool delta_softplus=False, "
      "bool return_last_state=False, ScalarType? out_dtype=None) -> (Tensor out, "
      "Tensor last_state, Tensor checkpoints)");
  m.def(
      "selective_scan_backward(Tensor dout, Tensor u, Tensor delta, Tensor A, Tensor B, "
      "Tensor C, Tensor? D, Tensor? delta_bias, bool delta_softplus, Tensor? checkpoints=None) "
      "-> (Tensor du, Tensor ddelta, Tensor dA, Tensor dB, Tensor dC, Tensor dD, "
      "Tensor ddelta_bias)");
  m.def(
      "selective_scan_plan(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor? D, "
      "Tensor? delta_bias, Tensor index, Tensor? merge_weight=None, bool delta_softplus=False, "
      "ScalarType? out_dtype=None) -> Tensor");
  m.def(
      "selective_scan_plan_backward(Tensor dout, Tensor u, Tensor delta, Tensor A, Tensor B, "
      "Tensor C, Tensor? D, Tensor? delta_bias, Tensor index, Tensor? merge_weight, "
      "bool delta_softplus) -> (Tensor du, Tensor ddelta, Tensor dA, Tensor dB, Tensor dC, "
      "Tensor dD, Tensor ddelta_bias)");
  // Inference only (no autograd kernel): kernels/selective_scan.h.
  m.def(
      "selective_scan_plan_channels_last(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, "
      "Tensor? D, Tensor? delta_bias, Tensor index, Tensor? merge_weight=None, "
      "bool delta_softplus=False, ScalarType? out_dtype=None) -> Tensor");
  // kernels/depthwise_conv.h; autograd in depthwise_conv_autograd.cpp (the backward recomputes
  // the pre-activation from x, so the forward saves x only).
  m.def("depthwise_conv2d(Tensor x, Tensor weight, Tensor? bias=None, bool silu=False) -> Tensor");
  m.def(
      "depthwise_conv2d_backward(Tensor dy, Tensor x, Tensor weight, Tensor? bias, bool silu) "
      "-> (Tensor dx, Tensor dweight, Tensor dbias)");
  // Inference only (no autograd kernel): kernels/depthwise_conv.h.
  m.def(
      "depthwise_conv2d_channels_last(Tensor x, Tensor weight, Tensor? bias=None, "
      "bool silu=False) -> Tensor");
  // kernels/layer_norm.h; autograd in layer_norm_autograd.cpp. The backward recomputes the
  // row statistics from x (it reads the row anyway), so the forward saves nothing but x.
  m.def(
      "layer_norm(Tensor x, Tensor weight, Tensor bias, float eps, bool channel_first=False, "
      "ScalarType? out_dtype=None) -> Tensor");
  m.def(
      "layer_norm_backward(Tensor dy, Tensor x, Tensor weight, float eps, bool channel_first, "
      "Tensor? residual_grad=None) -> (Tensor dx, Tensor dweight, Tensor dbias)");
  // kernels/channel_bias.h; autograd in channel_bias_autograd.cpp (the bias's gradient by column_sum).
  m.def("add_channel_bias(Tensor x, Tensor bias) -> Tensor");
  // kernels/column_sum.h (no autograd: the backward passes use it).
  m.def("column_sum(Tensor x) -> Tensor");
  // kernels/gelu_backward.h (no autograd: the MLP's fc1 -> GELU backward calls it).
  m.def("gelu_backward_with_bias_grad(Tensor dy, Tensor h) -> (Tensor dh, Tensor dbias)");
  // kernels/dt_projection.h; autograd in dt_projection_autograd.cpp (two batched products).
  m.def("dt_projection(Tensor x, Tensor weight) -> Tensor");
  // kernels/residual_add.h; autograd in residual_add_autograd.cpp (x's gradient is dout).
  m.def("residual_add(Tensor x, Tensor branch, Tensor? sample_scale=None) -> Tensor");
  m.def("residual_add_backward(Tensor dout, Tensor? sample_scale, ScalarType branch_dtype) -> Tensor");
  // kernels/walk_copy.h (no autograd kernel: scans/walk_flatten.cpp's functions use each as
  // the other's backward).
  m.def("walk_flatten(Tensor x, int[] walks) -> Tensor");
  m.def("walk_merge(Tensor y, int[] walks, int H, int W) -> Tensor");
}
