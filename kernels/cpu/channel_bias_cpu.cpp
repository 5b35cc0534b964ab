// CPU kernel of vss::add_channel_bias (kernels/channel_bias.h): the ATen formula of
// channel_bias_checks.h, the reference the CUDA kernel is held to.
#include "kernels/channel_bias_checks.h"

#include <torch/library.h>

TORCH_LIBRARY_IMPL(vss, CPU, m) { m.impl("add_channel_bias", &vss::channel_bias_formula); }
