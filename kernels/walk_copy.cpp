// The C++ entry points of kernels/walk_copy.h: the dispatcher ops vss::walk_flatten and
// vss::walk_merge, with the walks as their integer codes.
#include "kernels/walk_copy.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

namespace {

std::vector<int64_t> codes(const std::vector<Walk>& walks) {
  std::vector<int64_t> out;
  for (const Walk w : walks) out.push_back(static_cast<int64_t>(w));
  return out;
}

}  // namespace

at::Tensor walk_flatten(const at::Tensor& x, const std::vector<Walk>& walks) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::walk_flatten", "")
                             .typed<at::Tensor(const at::Tensor&, at::IntArrayRef)>();
  return op.call(x, codes(walks));
}

at::Tensor walk_merge(const at::Tensor& y, const std::vector<Walk>& walks, int64_t H, int64_t W) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::walk_merge", "")
                             .typed<at::Tensor(const at::Tensor&, at::IntArrayRef, int64_t, int64_t)>();
  return op.call(y, codes(walks), H, W);
}

}  // namespace vss
