// CPU kernel of vss::column_sum (kernels/column_sum.h): at::sum over the rows, the reference
// the CUDA kernel is held to.
#include "kernels/column_sum_checks.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace vss {
namespace {

at::Tensor column_sum_cpu(const at::Tensor& x) {
  check_column_sum_arg(x);
  return at::sum(x, 0, false, column_sum_dtype(x));
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, CPU, m) { m.impl("column_sum", &column_sum_cpu); }

}  // namespace vss
