#pragma once
// Argument rules of vss::walk_flatten and vss::walk_merge, shared by their CPU and CUDA kernels
// so both reject the same inputs with the same one-line message.
#include "kernels/walk_copy.h"

#include <ATen/core/Tensor.h>

#include <vector>

namespace vss {

// The walks of a call, decoded; throws on a code that is no Walk or an empty list.
std::vector<Walk> checked_walks(const char* op, at::IntArrayRef codes);

// x [B, C, H, W]; returns the walks.
std::vector<Walk> check_walk_flatten_args(const at::Tensor& x, at::IntArrayRef walks);

// y [B, K, C, H·W] with K = walks.size(), H, W >= 1; returns the walks.
std::vector<Walk> check_walk_merge_args(const at::Tensor& y, at::IntArrayRef walks, int64_t H, int64_t W);

}  // namespace vss
