// CPU kernel of vss::dt_projection (kernels/dt_projection.h): the ATen formula of
// dt_projection_checks.h, the reference the CUDA kernel is held to.
#include "kernels/dt_projection_checks.h"

#include <torch/library.h>

TORCH_LIBRARY_IMPL(vss, CPU, m) { m.impl("dt_projection", &vss::dt_projection_formula); }
