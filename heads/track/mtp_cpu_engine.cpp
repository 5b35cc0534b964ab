#include "heads/track/mtp_cpu_engine.h"

#include "core/error.h"
#include "heads/track/mamba_motion_predictor.h"
#include "kernels/scan_exp.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>

// The hot loops are compiled three times, for baseline x86-64, AVX2 + FMA (x86-64-v3) and
// AVX-512 (x86-64-v4), and the loader picks the clone the CPU runs: the build stays portable
// and the vector loops get 8 or 16 lanes and fused multiply-adds where the hardware has them
// (the AVX-512 clone is 1.7x the AVX2 one on the 2-core EPYC VM).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VSS_MTP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VSS_MTP_CLONES
#endif
#define VSS_INLINE [[gnu::always_inline]] inline

namespace vss::track {
namespace {

using Dense = MtpCpuEngine::Dense;
using Mamba = MtpCpuEngine::Mamba;
using Layer = MtpCpuEngine::Layer;
using Network = MtpCpuEngine::Network;

// Output columns per micro-kernel block and rows per register tile.
constexpr int64_t kWidth = 16;
constexpr int64_t kRows = 6;

int64_t padded(int64_t n) { return (n + kWidth - 1) / kWidth * kWidth; }

at::Tensor cpu_float(const at::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat).contiguous(); }

std::vector<float> to_vector(const at::Tensor& t) {
  const at::Tensor c = cpu_float(t);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

Dense make_dense(const torch::nn::Linear& linear) {
  const at::Tensor w = cpu_float(linear->weight);  // [out, in]
  Dense d;
  d.out = w.size(0);
  d.in = w.size(1);
  d.out_padded = padded(d.out);
  d.weight_t.assign(d.in * d.out_padded, 0.0f);
  d.bias.assign(d.out_padded, 0.0f);
  const float* p = w.data_ptr<float>();
  for (int64_t o = 0; o < d.out; ++o)
    for (int64_t i = 0; i < d.in; ++i) d.weight_t[i * d.out_padded + o] = p[o * d.in + i];
  if (linear->bias.defined()) {
    const std::vector<float> b = to_vector(linear->bias);
    std::copy(b.begin(), b.end(), d.bias.begin());
  }
  return d;
}

Mamba make_mamba(const MambaBlockImpl& m) {
  const int64_t di = m.options().d_inner(), n = m.options().d_state, dc = m.options().d_conv;
  Mamba out;
  out.in_proj = make_dense(m.in_proj);
  out.x_proj = make_dense(m.x_proj);
  out.dt_proj = make_dense(m.dt_proj);
  out.out_proj = make_dense(m.out_proj);
  const std::vector<float> conv = to_vector(m.conv1d->weight);  // [di, 1, dc]
  out.conv_weight.resize(dc * di);
  for (int64_t c = 0; c < di; ++c)
    for (int64_t j = 0; j < dc; ++j) out.conv_weight[j * di + c] = conv[c * dc + j];
  out.conv_bias = to_vector(m.conv1d->bias);
  const int64_t stride = padded(di);  // the scan's rows are whole vectors; padding is 0
  out.D = to_vector(m.D);
  out.D.resize(stride, 0.0f);
  const std::vector<float> a_log = to_vector(m.A_log);  // [di, n]
  out.A.assign(n * stride, 0.0f);
  for (int64_t c = 0; c < di; ++c)
    for (int64_t s = 0; s < n; ++s) out.A[s * stride + c] = -std::exp(a_log[c * n + s]);
  return out;
}

// y[r] (+)= x[r]·Wᵀ + b for R rows: R x kWidth accumulators per block of output columns kept
// in registers (GCC vector types of 16 floats: one AVX-512 register, two AVX or four SSE
// ones), one broadcast of x per row and one load of Wᵀ per input feature.
constexpr int64_t kLanes = 16;
typedef float Lanes __attribute__((vector_size(4 * kLanes)));
typedef int32_t IntLanes __attribute__((vector_size(4 * kLanes)));
constexpr int64_t kVectors = kWidth / kLanes;

// Unaligned loads by reference: a vector return value would warn about the AVX calling
// convention in the baseline clone (harmless once inlined, but noisy).
VSS_INLINE void load(Lanes& v, const float* p) { std::memcpy(&v, p, sizeof v); }

template <int64_t R>
VSS_INLINE void dense_tile(const Dense& W, const float* x, int64_t xs, float* y, int64_t ys, bool accumulate) {
  for (int64_t o0 = 0; o0 < W.out_padded; o0 += kWidth) {
    Lanes acc[R][kVectors];
    for (int64_t r = 0; r < R; ++r)
      for (int64_t v = 0; v < kVectors; ++v) {
        load(acc[r][v], W.bias.data() + o0 + kLanes * v);
        if (accumulate) {
          Lanes prior;
          load(prior, y + r * ys + o0 + kLanes * v);
          acc[r][v] += prior;
        }
      }
    const float* w = W.weight_t.data() + o0;
    for (int64_t i = 0; i < W.in; ++i, w += W.out_padded) {
      Lanes wv[kVectors];
      for (int64_t v = 0; v < kVectors; ++v) load(wv[v], w + kLanes * v);
      for (int64_t r = 0; r < R; ++r) {
        const float a = x[r * xs + i];
        for (int64_t v = 0; v < kVectors; ++v) acc[r][v] += a * wv[v];
      }
    }
    for (int64_t r = 0; r < R; ++r)
      for (int64_t v = 0; v < kVectors; ++v) std::memcpy(y + r * ys + o0 + kLanes * v, &acc[r][v], sizeof(Lanes));
  }
}

// rows x W.in (row stride xs) -> rows x W.out_padded (row stride ys).
VSS_INLINE void dense(const Dense& W, const float* x, int64_t xs, int64_t rows, float* y, int64_t ys,
                      bool accumulate = false) {
  int64_t r = 0;
  for (; r + kRows <= rows; r += kRows) dense_tile<kRows>(W, x + r * xs, xs, y + r * ys, ys, accumulate);
  for (; r < rows; ++r) dense_tile<1>(W, x + r * xs, xs, y + r * ys, ys, accumulate);
}

VSS_INLINE float silu(float x) { return x / (1.0f + scan_exp(-x)); }

// softplus(x) = max(x, 0) + log1p(exp(-|x|)); log1p(e) for e in (0, 1] as 2·atanh(e / (2 + e)),
// whose series in s = e / (2 + e) <= 1/3 reaches float precision by s^13. Plain arithmetic, so
// it vectorises (std::log1p does not).
VSS_INLINE float softplus(float x) {
  const float e = scan_exp(-std::fabs(x));
  const float s = e / (2.0f + e), s2 = s * s;
  float p = 1.0f / 13.0f;
  p = p * s2 + 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  return std::max(x, 0.0f) + 2.0f * s * p;
}

VSS_INLINE float leaky_relu(float x) { return x > 0.0f ? x : 0.01f * x; }

// The tracks of one chunk: track b's steps are rows first[b] .. first[b] + length[b] - 1.
struct Tracks {
  int64_t count = 0, rows = 0;
  std::vector<int64_t> first, length;
  Tracks(const int64_t* lengths, int64_t n) : count(n), first(n), length(lengths, lengths + n) {
    for (int64_t b = 0; b < n; ++b) {
      first[b] = rows;
      rows += length[b];
    }
  }
};

// Per-chunk activations, one row per step of every track, widths padded to whole
// micro-kernel blocks.
struct Scratch {
  int64_t model, inner, xz, dbl, mlp;  // row strides
  std::vector<float> h, s, t, f, xz_buf, u, dbl_buf, delta, y, state;
  Scratch(const Network& net, int64_t rows) {
    const Layer* l0 = net.layers.empty() ? nullptr : &net.layers.front();
    model = padded(net.d_model);
    inner = padded(net.d_inner);
    xz = l0 ? l0->forward_mamba.in_proj.out_padded : 0;
    dbl = l0 ? l0->forward_mamba.x_proj.out_padded : 0;
    mlp = l0 ? l0->fc1.out_padded : 0;
    h.assign(rows * model, 0.0f);
    s.assign(rows * model, 0.0f);
    t.assign(rows * model, 0.0f);
    f.assign(rows * mlp, 0.0f);
    xz_buf.assign(rows * xz, 0.0f);
    u.assign(rows * inner, 0.0f);
    dbl_buf.assign(rows * dbl, 0.0f);
    delta.assign(rows * inner, 0.0f);
    y.assign(rows * inner, 0.0f);
    state.assign(net.d_state * inner, 0.0f);
  }
};

// One Mamba block over every track of the chunk, its output added to (or written into) s.
// `reverse` runs the causal conv and the scan backwards in time: the module's
// flip → Mamba → flip, without the copies.
VSS_INLINE void mamba_block(const Network& net, const Mamba& m, const float* x, const Tracks& tracks, bool reverse,
                            bool accumulate, Scratch& w) {
  const int64_t rows = tracks.rows, di = net.d_inner, n_state = net.d_state, dc = net.d_conv, r = net.dt_rank;
  dense(m.in_proj, x, w.model, rows, w.xz_buf.data(), w.xz);
  auto row = [&](int64_t b, int64_t step) {
    return tracks.first[b] + (reverse ? tracks.length[b] - 1 - step : step);
  };
  for (int64_t b = 0; b < tracks.count; ++b)
    for (int64_t step = 0; step < tracks.length[b]; ++step) {
      float* u = w.u.data() + row(b, step) * w.inner;
      std::copy(m.conv_bias.begin(), m.conv_bias.end(), u);
      for (int64_t j = std::max<int64_t>(0, dc - 1 - step); j < dc; ++j) {
        const float* xin = w.xz_buf.data() + row(b, step - (dc - 1) + j) * w.xz;
        const float* k = m.conv_weight.data() + j * di;
        for (int64_t c = 0; c < di; ++c) u[c] += k[c] * xin[c];
      }
      for (int64_t c = 0; c < di; ++c) u[c] = silu(u[c]);
    }
  dense(m.x_proj, w.u.data(), w.inner, rows, w.dbl_buf.data(), w.dbl);
  dense(m.dt_proj, w.dbl_buf.data(), w.dbl, rows, w.delta.data(), w.inner);
  for (float& d : w.delta) d = softplus(d);
  for (int64_t b = 0; b < tracks.count; ++b) {
    std::fill(w.state.begin(), w.state.end(), 0.0f);
    for (int64_t step = 0; step < tracks.length[b]; ++step) {
      const int64_t i = row(b, step);
      const float* dl = w.delta.data() + i * w.inner;
      const float* u = w.u.data() + i * w.inner;
      const float* bc = w.dbl_buf.data() + i * w.dbl + r;  // B then C of this step
      const float* z = w.xz_buf.data() + i * w.xz + di;
      float* y = w.y.data() + i * w.inner;
      // A whole vector of channels at a time (w.inner is a multiple of kLanes; the padded
      // channels have u = 0, so their state and output stay 0), y and Δ·u kept in registers
      // across the states.
      for (int64_t c = 0; c < w.inner; c += kLanes) {
        Lanes dlv, uv, dv;
        load(dlv, dl + c);
        load(uv, u + c);
        load(dv, m.D.data() + c);
        const Lanes duv = dlv * uv;
        Lanes yv = dv * uv;
        for (int64_t s = 0; s < n_state; ++s) {
          Lanes av, hv;
          load(av, m.A.data() + s * w.inner + c);
          float* h = w.state.data() + s * w.inner + c;
          load(hv, h);
          Lanes decay = dlv * av;
          scan_decay_exp<Lanes, IntLanes>(decay);
          hv = decay * hv + duv * bc[s];
          std::memcpy(h, &hv, sizeof hv);
          yv += bc[n_state + s] * hv;
        }
        std::memcpy(y + c, &yv, sizeof yv);
      }
      for (int64_t c = 0; c < di; ++c) y[c] *= silu(z[c]);
    }
  }
  dense(m.out_proj, w.y.data(), w.inner, rows, w.s.data(), w.model, accumulate);
}

VSS_INLINE void layer_norm(const Layer& l, const float* x, int64_t rows, int64_t stride, int64_t d, float* y) {
  for (int64_t i = 0; i < rows; ++i, x += stride, y += stride) {
    float mean = 0.0f;
    for (int64_t c = 0; c < d; ++c) mean += x[c];
    mean /= static_cast<float>(d);
    float var = 0.0f;
    for (int64_t c = 0; c < d; ++c) var += (x[c] - mean) * (x[c] - mean);
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(d) + l.norm_eps);
    for (int64_t c = 0; c < d; ++c) y[c] = (x[c] - mean) * inv * l.norm_weight[c] + l.norm_bias[c];
  }
}

VSS_MTP_CLONES void forward_chunk(const Network& net, const float* diffs, const Tracks& tracks, float* next) {
  const int64_t rows = tracks.rows;
  Scratch w(net, rows);
  dense(net.embed, diffs, 4, rows, w.h.data(), w.model);
  for (const Layer& l : net.layers) {
    mamba_block(net, l.forward_mamba, w.h.data(), tracks, /*reverse=*/false, /*accumulate=*/false, w);
    mamba_block(net, l.backward_mamba, w.h.data(), tracks, /*reverse=*/true, /*accumulate=*/true, w);
    layer_norm(l, w.s.data(), rows, w.model, net.d_model, w.t.data());
    dense(l.fc1, w.t.data(), w.model, rows, w.f.data(), w.mlp);
    for (float& v : w.f) v = leaky_relu(v);
    w.h = w.s;  // the residual; fc2 adds onto it
    dense(l.fc2, w.f.data(), w.mlp, rows, w.h.data(), w.model, /*accumulate=*/true);
  }
  // Mean over time, then the head; the chunk's first rows of t and f are free for it.
  float* mean = w.t.data();
  for (int64_t b = 0; b < tracks.count; ++b) {
    float* m = mean + b * w.model;
    std::fill(m, m + w.model, 0.0f);
    for (int64_t step = 0; step < tracks.length[b]; ++step) {
      const float* x = w.h.data() + (tracks.first[b] + step) * w.model;
      for (int64_t c = 0; c < w.model; ++c) m[c] += x[c];
    }
    for (int64_t c = 0; c < w.model; ++c) m[c] /= static_cast<float>(tracks.length[b]);
  }
  const int64_t n = tracks.count;
  std::vector<float> hidden(n * net.head_fc1.out_padded), out(n * net.head_fc2.out_padded);
  dense(net.head_fc1, mean, w.model, n, hidden.data(), net.head_fc1.out_padded);
  for (float& v : hidden) v = leaky_relu(v);
  dense(net.head_fc2, hidden.data(), net.head_fc1.out_padded, n, out.data(), net.head_fc2.out_padded);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < 4; ++k) next[b * 4 + k] = out[b * net.head_fc2.out_padded + k];
}

}  // namespace

MtpCpuEngine::MtpCpuEngine(const MambaMotionPredictorImpl& model) {
  const MtpOptions& o = model.options();
  net_.d_model = o.mamba.d_model;
  net_.d_inner = o.mamba.d_inner();
  net_.d_state = o.mamba.d_state;
  net_.d_conv = o.mamba.d_conv;
  net_.dt_rank = o.mamba.resolved_dt_rank();
  net_.embed = make_dense(model.embed);
  net_.head_fc1 = make_dense(model.head_fc1);
  net_.head_fc2 = make_dense(model.head_fc2);
  for (const auto& module : *model.layers) {
    const auto* layer = module->as<BiMambaLayerImpl>();
    Layer l;
    l.forward_mamba = make_mamba(*layer->forward_mamba);
    l.backward_mamba = make_mamba(*layer->backward_mamba);
    l.norm_weight = to_vector(layer->norm->weight);
    l.norm_bias = to_vector(layer->norm->bias);
    l.norm_eps = static_cast<float>(layer->norm->options.eps());
    l.fc1 = make_dense(layer->fc1);
    l.fc2 = make_dense(layer->fc2);
    net_.layers.push_back(std::move(l));
  }
}

void MtpCpuEngine::forward(const float* diffs, const int64_t* lengths, int64_t batch, float* next) const {
  if (batch < 0) throw Error("MtpCpuEngine: need batch >= 0, got " + std::to_string(batch));
  std::vector<int64_t> first(batch + 1, 0);  // each track's first row in diffs
  for (int64_t b = 0; b < batch; ++b) {
    if (lengths[b] < 1)
      throw Error("MtpCpuEngine: track " + std::to_string(b) + " has length " + std::to_string(lengths[b]) +
                  " (need >= 1)");
    first[b + 1] = first[b] + lengths[b];
  }
  // Tracks are independent: at most 16 per task and a whole number of tasks per thread, so
  // ~50 tracks spread evenly over the threads.
  const int64_t threads = std::max(1, at::get_num_threads());
  const int64_t tasks = threads * std::max<int64_t>(1, (batch + 16 * threads - 1) / (16 * threads));
  const int64_t chunk = std::max<int64_t>(1, (batch + tasks - 1) / tasks);
  at::parallel_for(0, (batch + chunk - 1) / chunk, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const int64_t b0 = c * chunk, count = std::min(chunk, batch - b0);
      forward_chunk(net_, diffs + first[b0] * 4, Tracks(lengths + b0, count), next + b0 * 4);
    }
  });
}

}  // namespace vss::track
