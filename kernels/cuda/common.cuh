#pragma once
// Host-side helpers of the CUDA kernels: picking the instantiation for a dtype (or an input /
// output dtype pair), the device tensor pointers cast to CUDA's types, and what the scan ops
// share: their tensors made contiguous, the output dtypes their kernels write, and the gradient
// buffers of their backwards.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <optional>
#include <tuple>

namespace vss::cuda {

template <typename T>
struct Type {
  using type = T;
};

// Calls f(Type<T>{}) for the CUDA element type of t (float32, float16, bfloat16); any other
// dtype is a one-line error naming the op and its argument.
template <typename F>
void dispatch_float(at::ScalarType t, const char* op, const char* arg, F&& f) {
  switch (t) {
    case at::kFloat: return f(Type<float>{});
    case at::kHalf: return f(Type<__half>{});
    case at::kBFloat16: return f(Type<__nv_bfloat16>{});
    default:
      TORCH_CHECK(false, "vss::", op, " (CUDA): ", arg,
                  " must be float32, float16 or bfloat16 (float64 is CPU-only), got ", t);
  }
}

// Calls f(Type<In>{}, Type<Out>{}) for the CUDA element types of `in` (float32, float16,
// bfloat16) and `out` (the same as `in`, or float32).
template <typename F>
void dispatch_in_out(at::ScalarType in, at::ScalarType out, F&& f) {
  const bool out_float = out == at::kFloat;
  switch (in) {
    case at::kFloat:
      TORCH_CHECK(out_float, "selective_scan (CUDA): out_dtype must be float32 for float32 inputs, got ", out);
      return f(Type<float>{}, Type<float>{});
    case at::kHalf:
      TORCH_CHECK(out == at::kHalf || out_float,
                  "selective_scan (CUDA): out_dtype must be float16 or float32 for float16 inputs, got ", out);
      return out_float ? f(Type<__half>{}, Type<float>{}) : f(Type<__half>{}, Type<__half>{});
    case at::kBFloat16:
      TORCH_CHECK(out == at::kBFloat16 || out_float,
                  "selective_scan (CUDA): out_dtype must be bfloat16 or float32 for bfloat16 inputs, got ", out);
      return out_float ? f(Type<__nv_bfloat16>{}, Type<float>{})
                       : f(Type<__nv_bfloat16>{}, Type<__nv_bfloat16>{});
    default:
      TORCH_CHECK(false, "selective_scan (CUDA): u must be float32, float16 or bfloat16, got ", in);
  }
}

// An optional argument contiguous, or an undefined tensor when absent.
inline at::Tensor contiguous_or_undefined(const std::optional<at::Tensor>& t) {
  return t.has_value() && t->defined() ? t->contiguous() : at::Tensor();
}

// A scan op's tensors as its kernels read them: contiguous, an absent D, delta_bias (and for
// the plan ops' merge weight) undefined; index only for the plan ops.
struct ScanTensors {
  at::Tensor u, delta, A, B, C, D, bias, index, weight;
  ScanTensors(const at::Tensor& u_in, const at::Tensor& delta_in, const at::Tensor& A_in, const at::Tensor& B_in,
              const at::Tensor& C_in, const std::optional<at::Tensor>& D_in,
              const std::optional<at::Tensor>& bias_in, const at::Tensor& index_in = at::Tensor(),
              const std::optional<at::Tensor>& weight_in = std::nullopt)
      : u(u_in.contiguous()), delta(delta_in.contiguous()), A(A_in.contiguous()), B(B_in.contiguous()),
        C(C_in.contiguous()), D(contiguous_or_undefined(D_in)), bias(contiguous_or_undefined(bias_in)),
        index(index_in.defined() ? index_in.contiguous() : index_in), weight(contiguous_or_undefined(weight_in)) {}
};

template <typename T>
const T* cptr(const at::Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.const_data_ptr()) : nullptr;
}
template <typename T>
T* mptr(const at::Tensor& t) {
  return t.defined() ? static_cast<T*>(t.mutable_data_ptr()) : nullptr;
}

// The output dtype the scan kernels write (the input's or float32); any other requested dtype
// is produced by a cast afterwards.
inline at::ScalarType kernel_out_dtype(at::ScalarType in, at::ScalarType want) {
  return want == in || want == at::kFloat ? want : at::kFloat;
}

// The output's gradient as the backward kernels read it: contiguous, in a dtype the forward
// kernels write (u's or float32).
inline at::Tensor kernel_dout(const at::Tensor& dout, const at::Tensor& u) {
  return dout.to(kernel_out_dtype(u.scalar_type(), dout.scalar_type())).contiguous();
}

using ScanGrads = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
                             at::Tensor, at::Tensor>;  // du, ddelta, dA, dB, dC, dD, ddelta_bias

// What a scan backward kernel accumulates in float32 besides du and ddelta: dB and dC (by float
// atomics where N > 1, so zeroed then) and per-batch partial sums [B, channels(, N)] of dA, dD, ddelta_bias,
// which finish() sums over the batch in a fixed order.
struct ScanGradBuffers {
  at::Tensor dA_part, dB, dC, dD_part, dbias_part;
  // dB_dC_written: the kernels write every element of dB and dC (no atomic accumulation), so
  // they need no zero fill.
  ScanGradBuffers(int64_t batch, int64_t channels, int64_t N, const at::Tensor& B, bool dB_dC_written = false) {
    const auto f32 = B.options().dtype(at::kFloat);
    dA_part = at::zeros({batch, channels, N}, f32);
    dB = dB_dC_written ? at::empty(B.sizes(), f32) : at::zeros(B.sizes(), f32);
    dC = dB_dC_written ? at::empty(B.sizes(), f32) : at::zeros(B.sizes(), f32);
    dD_part = at::zeros({batch, channels}, f32);
    dbias_part = at::zeros({batch, channels}, f32);
  }
  // The op's gradients: dB, dC in B's and C's dtype, dD / ddelta_bias only for given D / bias.
  ScanGrads finish(at::Tensor du, at::Tensor ddelta, const at::Tensor& B, const at::Tensor& C,
                   bool has_D, bool has_bias) const {
    return {std::move(du), std::move(ddelta), dA_part.sum(0), dB.to(B.scalar_type()),
            dC.to(C.scalar_type()), has_D ? dD_part.sum(0) : at::Tensor(),
            has_bias ? dbias_part.sum(0) : at::Tensor()};
  }
};

}  // namespace vss::cuda
