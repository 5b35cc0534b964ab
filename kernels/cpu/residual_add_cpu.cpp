// CPU kernels of vss::residual_add and its backward (kernels/residual_add.h): the ATen formulas
// of residual_add_checks.h, the reference the CUDA kernels are held to.
#include "kernels/residual_add_checks.h"

#include <torch/library.h>

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("residual_add", &vss::residual_add_formula);
  m.impl("residual_add_backward", &vss::residual_add_backward_formula);
}
