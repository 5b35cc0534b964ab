// The dispatcher side of the CUDA emulator. The emulated kernels are registered on the
// PrivateUse1 key (cuda_emulation.h), and this file turns that key on for the test process's
// main thread: every op then reaches PrivateUse1 first. The vss ops run emulated, or on the
// CPU kernel for float64 inputs (the tests' references); every other op falls back to its
// CPU kernel. Tensors stay ordinary CPU tensors throughout.
#include "tests/emulation/cuda_emulation.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include <string>

namespace vss_emu {

bool has_float64(const at::Tensor& t) { return t.defined() && t.scalar_type() == at::kDouble; }
bool has_float64(const std::optional<at::Tensor>& t) { return t.has_value() && has_float64(*t); }

c10::OperatorHandle op_handle(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow((std::string("vss::") + name).c_str(), "");
}

namespace {

void run_on_cpu(const c10::OperatorHandle& op, c10::DispatchKeySet, torch::jit::Stack* stack) {
  op.redispatchBoxed(c10::DispatchKeySet(c10::DispatchKey::CPU), stack);
}

const bool kEmulatedDeviceOn = [] {
  c10::impl::tls_set_dispatch_key_included(c10::DispatchKey::PrivateUse1, true);
  return true;
}();

}  // namespace
}  // namespace vss_emu

TORCH_LIBRARY_IMPL(_, PrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&vss_emu::run_on_cpu>());
}
