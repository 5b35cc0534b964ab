#include "kernels/selective_scan_checks.h"
#include "kernels/float_dtypes.h"

#include <c10/util/Exception.h>

#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>

namespace vss {

namespace {

// One expected dimension: a known size, or (size < 0) a size not yet known, printed by name.
struct Dim {
  int64_t size;
  const char* name;
};
constexpr int64_t kAny = -1;

std::string shape_text(std::initializer_list<Dim> dims) {
  std::ostringstream s;
  s << '[';
  const char* sep = "";
  for (const Dim& d : dims) {
    s << sep;
    if (d.size >= 0) s << d.size; else s << d.name;
    sep = ", ";
  }
  s << ']';
  bool any_known = false;
  for (const Dim& d : dims) any_known = any_known || d.size >= 0;
  if (any_known) {  // name the dimensions when the numbers alone would not
    s << " (";
    sep = "";
    for (const Dim& d : dims) s << sep << d.name, sep = ", ";
    s << ')';
  }
  return s.str();
}

void check_shape(const char* op, const char* arg, const at::Tensor& t,
                 std::initializer_list<Dim> dims) {
  bool ok = t.dim() == static_cast<int64_t>(dims.size());
  int64_t i = 0;
  for (const Dim& d : dims) {
    if (!ok) break;
    ok = d.size >= 0 ? t.size(i) == d.size : t.size(i) >= 1;
    ++i;
  }
  TORCH_CHECK(ok, op, ": ", arg, " must have shape ", shape_text(dims), ", got ", t.sizes(),
              t.numel() == 0 ? " (empty tensors are not supported)" : "");
}

void check_defined(const char* op, const char* arg, const at::Tensor& t) {
  TORCH_CHECK(t.defined(), op, ": ", arg, " is an undefined tensor");
}

void check_input_dtype(const char* op, const char* arg, const at::Tensor& t, at::ScalarType want) {
  TORCH_CHECK(t.scalar_type() == want, op, ": ", arg, " must have u's dtype ", want, ", got ",
              t.scalar_type());
}

void check_param_dtype(const char* op, const char* arg, const at::Tensor& t, at::ScalarType want) {
  TORCH_CHECK(t.scalar_type() == want, op, ": ", arg, " must be ", want,
              want == at::kDouble ? " (u is float64)" : " (float64 only with float64 inputs)",
              ", got ", t.scalar_type());
}

void check_device(const char* op, const char* arg, const at::Tensor& t, const at::Tensor& u) {
  TORCH_CHECK(t.device() == u.device(), op, ": ", arg, " must be on u's device ", u.device(),
              ", got ", t.device());
}

const at::Tensor* present(const std::optional<at::Tensor>& t) {
  return t.has_value() && t->defined() ? &*t : nullptr;
}

// The checks both ops share once u's layout has given batch, channels (K·D) and tokens:
// delta, A, B, C, D, delta_bias. Fills in groups, dim, state; length is set to tokens.
ScanSizes check_common(const char* op, const at::Tensor& u, const at::Tensor& delta,
                       const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                       const std::optional<at::Tensor>& D,
                       const std::optional<at::Tensor>& delta_bias, ScanSizes s) {
  check_defined(op, "delta", delta);
  check_defined(op, "A", A);
  check_defined(op, "B", B);
  check_defined(op, "C", C);
  check_shape(op, "delta", delta, {{s.batch, "batch"}, {s.channels, "K*D"}, {s.tokens, "L"}});
  check_shape(op, "A", A, {{s.channels, "K*D"}, {kAny, "N"}});
  s.state = A.size(1);
  TORCH_CHECK(s.state <= kMaxScanState, op, ": A has state size N = ", s.state,
              ", the kernels support 1..", kMaxScanState);
  check_shape(op, "B", B, {{s.batch, "batch"}, {kAny, "K"}, {s.state, "N"}, {s.tokens, "L"}});
  s.groups = B.size(1);
  TORCH_CHECK(s.channels % s.groups == 0, op, ": K*D = ", s.channels,
              " channels are not divisible by K = ", s.groups, " groups (B.size(1))");
  s.dim = s.channels / s.groups;
  check_shape(op, "C", C, {{s.batch, "batch"}, {s.groups, "K"}, {s.state, "N"}, {s.tokens, "L"}});

  const at::ScalarType in = u.scalar_type();
  TORCH_CHECK(is_float_dtype(in), op, ": u must be float32, float16, bfloat16 or float64, got ",
              in);
  check_input_dtype(op, "delta", delta, in);
  check_input_dtype(op, "B", B, in);
  check_input_dtype(op, "C", C, in);
  const at::ScalarType param = scan_param_dtype(in);
  check_param_dtype(op, "A", A, param);
  check_device(op, "delta", delta, u);
  check_device(op, "A", A, u);
  check_device(op, "B", B, u);
  check_device(op, "C", C, u);
  for (auto [arg, t] : {std::pair{"D", present(D)}, std::pair{"delta_bias", present(delta_bias)}}) {
    if (!t) continue;
    check_shape(op, arg, *t, {{s.channels, "K*D"}});
    check_param_dtype(op, arg, *t, param);
    check_device(op, arg, *t, u);
  }
  s.length = s.tokens;
  return s;
}

}  // namespace

at::ScalarType scan_param_dtype(at::ScalarType input_dtype) {
  return input_dtype == at::kDouble ? at::kDouble : at::kFloat;
}

ScanSizes check_selective_scan_args(const char* op, const at::Tensor& u, const at::Tensor& delta,
                                    const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                                    const std::optional<at::Tensor>& D,
                                    const std::optional<at::Tensor>& delta_bias) {
  check_defined(op, "u", u);
  check_shape(op, "u", u, {{kAny, "batch"}, {kAny, "K*D"}, {kAny, "L"}});
  ScanSizes s;
  s.batch = u.size(0);
  s.channels = u.size(1);
  s.tokens = u.size(2);
  return check_common(op, u, delta, A, B, C, D, delta_bias, s);
}

ScanSizes check_selective_scan_plan_args(const char* op, const at::Tensor& u,
                                         const at::Tensor& delta, const at::Tensor& A,
                                         const at::Tensor& B, const at::Tensor& C,
                                         const std::optional<at::Tensor>& D,
                                         const std::optional<at::Tensor>& delta_bias,
                                         const at::Tensor& index,
                                         const std::optional<at::Tensor>& merge_weight) {
  check_defined(op, "u", u);
  check_defined(op, "delta", delta);
  check_defined(op, "index", index);
  check_shape(op, "u", u, {{kAny, "batch"}, {kAny, "D"}, {kAny, "H*W"}});
  check_shape(op, "index", index, {{kAny, "K"}, {kAny, "L"}});
  ScanSizes s;
  s.batch = u.size(0);
  s.tokens = u.size(2);
  s.channels = index.size(0) * u.size(1);
  check_shape(op, "delta", delta,
              {{s.batch, "batch"}, {s.channels, "K*D"}, {s.tokens, "H*W"}});
  s = check_common(op, u, delta, A, B, C, D, delta_bias, s);
  TORCH_CHECK(s.groups == index.size(0), op, ": index has K = ", index.size(0),
              " directions but B has ", s.groups, " groups (B.size(1))");
  s.length = index.size(1);
  TORCH_CHECK(index.scalar_type() == at::kInt, op, ": index must be int32, got ",
              index.scalar_type());
  check_device(op, "index", index, u);
  if (const at::Tensor* w = present(merge_weight)) {
    check_shape(op, "merge_weight", *w, {{s.tokens, "H*W"}});
    check_param_dtype(op, "merge_weight", *w, scan_param_dtype(u.scalar_type()));
    check_device(op, "merge_weight", *w, u);
  }
  return s;
}

ScanSizes check_selective_scan_plan_channels_last_args(
    const char* op, const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A,
    const at::Tensor& B, const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, const at::Tensor& index,
    const std::optional<at::Tensor>& merge_weight) {
  for (auto [arg, t] : {std::pair{"u", &u}, std::pair{"delta", &delta}, std::pair{"B", &B},
                        std::pair{"C", &C}, std::pair{"index", &index}})
    check_defined(op, arg, *t);
  check_shape(op, "u", u, {{kAny, "batch"}, {kAny, "H*W"}, {kAny, "D"}});
  check_shape(op, "index", index, {{kAny, "K"}, {kAny, "L"}});
  const int64_t batch = u.size(0), tokens = u.size(1), K = index.size(0);
  check_shape(op, "delta", delta, {{batch, "batch"}, {tokens, "H*W"}, {K * u.size(2), "K*D"}});
  check_shape(op, "B", B, {{batch, "batch"}, {tokens, "H*W"}, {K, "K"}, {kAny, "N"}});
  check_shape(op, "C", C, {{batch, "batch"}, {tokens, "H*W"}, {K, "K"}, {B.size(3), "N"}});
  // The layouts agree: the channel-first views pass the shape checks, and the rest is common.
  return check_selective_scan_plan_args(op, u.transpose(1, 2), delta.transpose(1, 2), A,
                                        B.permute({0, 2, 3, 1}), C.permute({0, 2, 3, 1}), D,
                                        delta_bias, index, merge_weight);
}

void check_plan_cuda_args(const char* op, const ScanSizes& s, const at::Tensor& u) {
  TORCH_CHECK(s.state <= kMaxCudaScanState, op, ": the CUDA kernel supports state size N <= ",
              kMaxCudaScanState, ", got ", s.state);
  TORCH_CHECK(u.scalar_type() != at::kDouble, op,
              ": float64 inputs are CPU-only, got u of dtype float64 on ", u.device());
  TORCH_CHECK(s.tokens < (int64_t{1} << 31), op, ": H*W must be below 2^31 (int32 token ids)");
}

void check_scan_dout(const char* op, const at::Tensor& dout, at::IntArrayRef expected,
                     const at::Tensor& u) {
  check_defined(op, "dout", dout);
  TORCH_CHECK(dout.sizes() == expected, op, ": dout must have the output's shape ", expected,
              ", got ", dout.sizes());
  TORCH_CHECK(is_float_dtype(dout.scalar_type()), op,
              ": dout must be float32, float16, bfloat16 or float64, got ", dout.scalar_type());
  check_device(op, "dout", dout, u);
}

at::Tensor check_scan_checkpoints(const char* op, const std::optional<at::Tensor>& checkpoints,
                                  const ScanSizes& s, const at::Tensor& u) {
  if (!checkpoints || !checkpoints->defined()) return at::Tensor();
  const at::Tensor& c = *checkpoints;
  TORCH_CHECK(c.dim() == 4 && c.size(0) == s.batch && c.size(1) == s.channels && c.size(3) == s.state, op,
              ": checkpoints must be [", s.batch, ", ", s.channels, ", T, ", s.state,
              "] (from vss::selective_scan_checkpointed on the same inputs), got ", c.sizes());
  TORCH_CHECK(c.scalar_type() == at::kFloat, op, ": checkpoints must be float32, got ", c.scalar_type());
  check_device(op, "checkpoints", c, u);
  return c.contiguous();
}

void check_scan_out_dtype(const char* op, std::optional<at::ScalarType> out_dtype) {
  TORCH_CHECK(!out_dtype || is_float_dtype(*out_dtype), op,
              ": out_dtype must be float32, float16, bfloat16 or float64, got ", *out_dtype);
}

}  // namespace vss
