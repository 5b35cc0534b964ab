#pragma once
// Host-side helpers for the CUDA kernels (the scans, layer_norm): picking the instantiation for an
// (input dtype, output dtype) pair, and the device tensor pointers cast to CUDA's types.
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <optional>

namespace vss::cuda {

template <typename T>
struct Type {
  using type = T;
};

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

template <typename T>
const T* cptr(const at::Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.const_data_ptr()) : nullptr;
}
template <typename T>
T* mptr(const at::Tensor& t) {
  return t.defined() ? static_cast<T*>(t.mutable_data_ptr()) : nullptr;
}

}  // namespace vss::cuda
