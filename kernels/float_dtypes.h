#pragma once
// The dtypes every vss op takes for its floating inputs: float32, float16, bfloat16 (the CUDA
// kernels' element types) and float64 (the CPU references' gradient checks).
#include <c10/core/ScalarType.h>

namespace vss {

inline bool is_float_dtype(at::ScalarType t) {
  return t == at::kFloat || t == at::kHalf || t == at::kBFloat16 || t == at::kDouble;
}

}  // namespace vss
