// CUDA kernels of vss::walk_flatten / vss::walk_merge (kernels/walk_copy.h).
//
// Maps of up to kMaxPlaneTokens tokens (every VMamba stage up to 440² inputs): a block takes
// whole planes, a few thousand tokens, staged in shared memory, and moves vectors of V tokens
// (16 bytes where H and W allow) between memory and shared memory: a row walk is the plane in
// order or reversed; for a column walk the lanes of a warp take V-token runs of neighbouring
// columns, so their shared-memory accesses hit consecutive banks and each lane's global access
// is one V-token run of the sequence. Merge sums the walks in a float32 plane in shared memory,
// in walk order (the same bits every run), and writes the map once.
//
// Larger maps: a block takes one kTile × kTile tile of one (b, c) plane. Flatten reads the tile once into
// shared memory and writes it to every direction's sequence: the row walks straight (a warp
// writes part of a map row, which is a contiguous run of the sequence, ascending or descending),
// the column walks from the transposed tile (a warp writes part of a map column, contiguous in
// a column walk). Merge reads each direction's tile the same ways round, sums in float32
// registers and writes the map once.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/int_divider.cuh"
#include "kernels/walk_copy_checks.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace vss::cuda {
namespace {

constexpr int kMaxWalks = 8;
constexpr int kTile = 32;     // the tile kernels' tile: kTile × kTile tokens
constexpr int kTileRows = 8;  // threadIdx.y: a thread handles kTile / kTileRows tile rows

struct WalkList {
  int8_t walk[kMaxWalks];
  int count;
};

__device__ __forceinline__ bool by_columns(int8_t w) {
  return w == static_cast<int8_t>(Walk::kColumns) || w == static_cast<int8_t>(Walk::kColumnsReversed);
}
__device__ __forceinline__ bool reversed(int8_t w) {
  return w == static_cast<int8_t>(Walk::kRowsReversed) || w == static_cast<int8_t>(Walk::kColumnsReversed);
}

// Grid (B·C planes, W tiles, H tiles), block (kTile, kTileRows).
template <typename T>
__global__ void walk_flatten_kernel(const T* __restrict__ x, T* __restrict__ out, WalkList walks, int64_t C,
                                    int H, int W) {
  __shared__ T tile[kTile][kTile + 1];
  const int64_t plane = blockIdx.x, b = plane / C, c = plane % C;
  const int w0 = static_cast<int>(blockIdx.y) * kTile, h0 = static_cast<int>(blockIdx.z) * kTile;
  const int64_t L = static_cast<int64_t>(H) * W;
  const int tx = threadIdx.x;
  const T* src = x + plane * L;
  for (int i = threadIdx.y; i < kTile; i += kTileRows) {
    const int h = h0 + i, w = w0 + tx;
    if (h < H && w < W) tile[i][tx] = src[static_cast<int64_t>(h) * W + w];
  }
  __syncthreads();
  for (int k = 0; k < walks.count; ++k) {
    const bool columns = by_columns(walks.walk[k]), back = reversed(walks.walk[k]);
    T* seq = out + ((b * walks.count + k) * C + c) * L;
    for (int i = threadIdx.y; i < kTile; i += kTileRows) {
      // Rows: map (h0 + i, w0 + tx); columns: map (h0 + tx, w0 + i). Lanes follow the walk.
      const int h = columns ? h0 + tx : h0 + i, w = columns ? w0 + i : w0 + tx;
      if (h < H && w < W) {
        const int64_t pos = columns ? static_cast<int64_t>(w) * H + h : static_cast<int64_t>(h) * W + w;
        seq[back ? L - 1 - pos : pos] = columns ? tile[tx][i] : tile[i][tx];
      }
    }
  }
}

template <typename T>
__global__ void walk_merge_kernel(const T* __restrict__ y, T* __restrict__ out, WalkList walks, int64_t C,
                                  int H, int W) {
  __shared__ float tile[kTile][kTile + 1];
  constexpr int kPerThread = kTile / kTileRows;
  const int64_t plane = blockIdx.x, b = plane / C, c = plane % C;
  const int w0 = static_cast<int>(blockIdx.y) * kTile, h0 = static_cast<int>(blockIdx.z) * kTile;
  const int64_t L = static_cast<int64_t>(H) * W;
  const int tx = threadIdx.x;
  float acc[kPerThread] = {};  // map (h0 + threadIdx.y + kTileRows·j, w0 + tx)
  for (int k = 0; k < walks.count; ++k) {
    const bool back = reversed(walks.walk[k]);
    const T* seq = y + ((b * walks.count + k) * C + c) * L;
    if (!by_columns(walks.walk[k])) {
#pragma unroll
      for (int j = 0; j < kPerThread; ++j) {
        const int h = h0 + threadIdx.y + kTileRows * j, w = w0 + tx;
        if (h < H && w < W) {
          const int64_t pos = static_cast<int64_t>(h) * W + w;
          acc[j] += to_float(seq[back ? L - 1 - pos : pos]);
        }
      }
      continue;
    }
    // A column walk: lanes read along a map column, then each thread takes its own cells back
    // from the tile. (The branch is the same for the whole block: the barriers are safe.)
    __syncthreads();  // the previous column walk's reads of the tile are done
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.y + kTileRows * j;
      const int h = h0 + tx, w = w0 + i;
      if (h < H && w < W) {
        const int64_t pos = static_cast<int64_t>(w) * H + h;
        tile[tx][i] = to_float(seq[back ? L - 1 - pos : pos]);
      }
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.y + kTileRows * j;
      if (h0 + i < H && w0 + tx < W) acc[j] += tile[i][tx];
    }
  }
  T* dst = out + plane * L;
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) {
    const int h = h0 + threadIdx.y + kTileRows * j, w = w0 + tx;
    if (h < H && w < W) dst[static_cast<int64_t>(h) * W + w] = from_float<T>(acc[j]);
  }
}

constexpr int kPlaneThreads = 256;
constexpr int64_t kMaxPlaneTokens = 12288;  // a float32 plane group in 48 KiB of shared memory
constexpr int64_t kPlaneGroupTokens = 4096;  // tokens a block stages
// Loads a thread issues before it uses the first: a loop that used each load before issuing
// the next would wait out the memory latency once per run.
constexpr int kLoadBatch = 4;

// V tokens moved as one access.
template <typename T, int V>
struct alignas(sizeof(T) * V) Run {
  T v[V];
};

// The group of planes a block owns: planes [first, first + count) of the B·C planes.
struct PlaneGroup {
  int64_t first;
  int count;
};

__device__ __forceinline__ PlaneGroup plane_group(int64_t planes, int per_block) {
  const int64_t first = int64_t{blockIdx.x} * per_block;
  return {first, static_cast<int>(planes - first < per_block ? planes - first : per_block)};
}

// A plane map's sizes, and dividers for the index arithmetic (cuda_int_divider.cuh).
struct PlaneMap {
  int H, W, L, runs;  // runs: V-token runs a plane
  int64_t C;
  IntDivider by_runs, by_width, by_channels;
};

PlaneMap plane_map(int64_t H, int64_t W, int64_t C, int V) {
  return {static_cast<int>(H), static_cast<int>(W), static_cast<int>(H * W), static_cast<int>(H * W / V), C,
          IntDivider(H * W / V), IntDivider(W), IntDivider(C)};
}

// Where run i of a block's planes lies: its plane g in the group, its first token `pos` along
// the walk (not reversed), its first cell `cell` in the group's shared planes, and the cell
// step `step` between its V tokens. Row walks: runs in order along the plane. Column walks:
// consecutive runs take neighbouring columns at one height (conflict-free shared memory), a
// run goes down a column (H is a multiple of V).
template <int V>
__device__ __forceinline__ void locate_run(const PlaneMap& m, bool columns, int i, int& g, int& pos, int& cell,
                                           int& step) {
  g = static_cast<int>(m.by_runs.div(i));
  const int r = i - g * m.runs;
  if (!columns) {
    pos = r * V, cell = g * m.L + r * V, step = 1;
    return;
  }
  const int hv = static_cast<int>(m.by_width.div(r)), w = r - hv * m.W, h = hv * V;
  pos = w * m.H + h, cell = g * m.L + h * m.W + w, step = m.W;
}

// Where walk k's sequence of plane `plane` (= b·C + c) starts in [B, K, C, L].
__device__ __forceinline__ int64_t sequence_offset(const PlaneMap& m, int64_t plane, int k, int walks) {
  const int64_t b = m.by_channels.div(static_cast<uint32_t>(plane)), c = plane - b * m.C;
  return ((b * walks + k) * m.C + c) * m.L;
}

template <typename T, int V>
__global__ void __launch_bounds__(kPlaneThreads) walk_flatten_plane_kernel(
    const T* __restrict__ x, T* __restrict__ out, WalkList walks, int64_t planes, PlaneMap m, int per_block) {
  extern __shared__ float smem[];  // (16-byte aligned, as dynamic shared memory starts)
  T* staged = reinterpret_cast<T*>(smem);  // [count][L]
  const PlaneGroup group = plane_group(planes, per_block);
  const Run<T, V>* src = reinterpret_cast<const Run<T, V>*>(x + group.first * m.L);
  const int n = group.count * m.runs;
  for (int base = threadIdx.x; base < n; base += blockDim.x * kLoadBatch) {
    Run<T, V> loaded[kLoadBatch];
#pragma unroll
    for (int u = 0; u < kLoadBatch; ++u)
      if (base + u * blockDim.x < n) loaded[u] = src[base + u * blockDim.x];
#pragma unroll
    for (int u = 0; u < kLoadBatch; ++u)
      if (base + u * blockDim.x < n) reinterpret_cast<Run<T, V>*>(staged)[base + u * blockDim.x] = loaded[u];
  }
  __syncthreads();
  for (int k = 0; k < walks.count; ++k) {
    const bool columns = by_columns(walks.walk[k]), back = reversed(walks.walk[k]);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
      int g, pos, cell, step;
      locate_run<V>(m, columns, i, g, pos, cell, step);
      Run<T, V> run;
      if (columns) {
#pragma unroll
        for (int j = 0; j < V; ++j) run.v[j] = staged[cell + j * step];
      } else {
        run = *reinterpret_cast<const Run<T, V>*>(staged + cell);
      }
      if (back) {
#pragma unroll
        for (int j = 0; j < V / 2; ++j) {
          const T t = run.v[j];
          run.v[j] = run.v[V - 1 - j];
          run.v[V - 1 - j] = t;
        }
      }
      T* seq = out + sequence_offset(m, group.first + g, k, walks.count);
      *reinterpret_cast<Run<T, V>*>(seq + (back ? m.L - V - pos : pos)) = run;
    }
  }
}

template <typename T, int V>
__global__ void __launch_bounds__(kPlaneThreads) walk_merge_plane_kernel(
    const T* __restrict__ y, T* __restrict__ out, WalkList walks, int64_t planes, PlaneMap m, int per_block) {
  extern __shared__ float sums[];  // [count][L]
  const PlaneGroup group = plane_group(planes, per_block);
  const int n = group.count * m.runs;
  for (int k = 0; k < walks.count; ++k) {
    const bool columns = by_columns(walks.walk[k]), back = reversed(walks.walk[k]);
    for (int base = threadIdx.x; base < n; base += blockDim.x * kLoadBatch) {
      Run<T, V> loaded[kLoadBatch];
      int cells[kLoadBatch], step = 1;
#pragma unroll
      for (int u = 0; u < kLoadBatch; ++u) {
        const int i = base + u * blockDim.x;
        if (i >= n) break;
        int g, pos;
        locate_run<V>(m, columns, i, g, pos, cells[u], step);
        const T* seq = y + sequence_offset(m, group.first + g, k, walks.count);
        loaded[u] = *reinterpret_cast<const Run<T, V>*>(seq + (back ? m.L - V - pos : pos));
      }
#pragma unroll
      for (int u = 0; u < kLoadBatch; ++u) {
        if (base + u * blockDim.x >= n) break;
        float* dst = sums + cells[u];
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const float v = to_float(loaded[u].v[back ? V - 1 - j : j]);
          dst[j * step] = k == 0 ? v : dst[j * step] + v;
        }
      }
    }
    __syncthreads();  // a cell's walks come from different threads
  }
  Run<T, V>* dst = reinterpret_cast<Run<T, V>*>(out + group.first * m.L);
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    Run<T, V> run;
#pragma unroll
    for (int j = 0; j < V; ++j) run.v[j] = from_float<T>(sums[i * V + j]);
    dst[i] = run;
  }
}

WalkList walk_list(const std::vector<Walk>& walks, const char* op) {
  TORCH_CHECK(walks.size() <= kMaxWalks, "vss::", op, " (CUDA): at most ", kMaxWalks, " walks, got ",
              walks.size());
  WalkList list{};
  for (size_t k = 0; k < walks.size(); ++k) list.walk[k] = static_cast<int8_t>(walks[k]);
  list.count = static_cast<int>(walks.size());
  return list;
}

// The tokens a plane kernel moves at once: 16 bytes where H and W are multiples of it (a run
// stays in one row and, for column walks, in one column) and the input is aligned to it,
// fewer otherwise. (Outputs come from at::empty: aligned.)
int run_tokens(int64_t H, int64_t W, size_t element_bytes, const void* input) {
  int v = static_cast<int>(16 / element_bytes);
  while (v > 1 && (H % v != 0 || W % v != 0 || reinterpret_cast<uintptr_t>(input) % (v * element_bytes) != 0)) v /= 2;
  return v;
}

// Launches a plane kernel with the run width of the map: f(Type<T>{}, V).
template <typename F>
void dispatch_plane(const at::Tensor& input, int64_t H, int64_t W, const char* op, F&& f) {
  const auto with_run = [&](auto type) {
    using T = typename decltype(type)::type;
    switch (run_tokens(H, W, sizeof(T), input.const_data_ptr())) {
      case 8: return f(type, std::integral_constant<int, 8>{});
      case 4: return f(type, std::integral_constant<int, 4>{});
      case 2: return f(type, std::integral_constant<int, 2>{});
      default: return f(type, std::integral_constant<int, 1>{});
    }
  };
  switch (input.scalar_type()) {
    case at::kFloat: return with_run(Type<float>{});
    case at::kHalf: return with_run(Type<__half>{});
    case at::kBFloat16: return with_run(Type<__nv_bfloat16>{});
    default:
      TORCH_CHECK(false, "vss::", op, " (CUDA): float32, float16 or bfloat16 tensors only, got ", input.scalar_type());
  }
}

// Planes a block stages, and the blocks.
std::pair<int, unsigned> plane_blocks(int64_t planes, int64_t L) {
  const int per_block = static_cast<int>(std::max<int64_t>(1, std::min(planes, kPlaneGroupTokens / L)));
  return {per_block, static_cast<unsigned>((planes + per_block - 1) / per_block)};
}

dim3 grid_of(int64_t planes, int64_t H, int64_t W, int tile, const char* op) {
  TORCH_CHECK(planes <= std::numeric_limits<int32_t>::max() && H <= std::numeric_limits<int32_t>::max() / 2 &&
                  W <= std::numeric_limits<int32_t>::max() / 2,
              "vss::", op, " (CUDA): ", planes, " planes of ", H, "x", W, " is too large");
  return dim3(static_cast<unsigned>(planes), static_cast<unsigned>((W + tile - 1) / tile),
              static_cast<unsigned>((H + tile - 1) / tile));
}

// The flatten (in x [B, C, H, W], out [B, K, C, L]) or the merge (in y [B, K, C, L], out
// [B, C, H, W]) kernels: whole planes where a plane fits shared memory, tiles otherwise.
void launch_walks(const at::Tensor& in, const at::Tensor& out, const WalkList& list, int64_t B, int64_t C, int64_t H,
                  int64_t W, bool merge) {
  const char* op = merge ? "walk_merge" : "walk_flatten";
  const auto stream = at::cuda::getCurrentCUDAStream();
  if (H * W <= kMaxPlaneTokens && B * C < (int64_t{1} << 31)) {
    const auto [per_block, blocks] = plane_blocks(B * C, H * W);
    dispatch_plane(in, H, W, op, [&](auto type, auto run) {
      using T = typename decltype(type)::type;
      constexpr int V = decltype(run)::value;
      const auto kernel = merge ? walk_merge_plane_kernel<T, V> : walk_flatten_plane_kernel<T, V>;
      const size_t smem = (merge ? sizeof(float) : sizeof(T)) * per_block * H * W;  // merge sums in float32
      kernel<<<blocks, kPlaneThreads, smem, stream>>>(cptr<T>(in), mptr<T>(out), list, B * C, plane_map(H, W, C, V),
                                                      per_block);
    });
  } else {
    dispatch_float(in.scalar_type(), op, "the input", [&](auto type) {
      using T = typename decltype(type)::type;
      const auto kernel = merge ? walk_merge_kernel<T> : walk_flatten_kernel<T>;
      kernel<<<grid_of(B * C, H, W, kTile, op), dim3(kTile, kTileRows), 0, stream>>>(
          cptr<T>(in), mptr<T>(out), list, C, static_cast<int>(H), static_cast<int>(W));
    });
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor walk_flatten_cuda(const at::Tensor& x_in, at::IntArrayRef codes) {
  const std::vector<Walk> walks = check_walk_flatten_args(x_in, codes);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const WalkList list = walk_list(walks, "walk_flatten");
  at::Tensor out = at::empty({B, list.count, C, H * W}, x.options());
  if (out.numel() > 0) launch_walks(x, out, list, B, C, H, W, /*merge=*/false);
  return out;
}

at::Tensor walk_merge_cuda(const at::Tensor& y_in, at::IntArrayRef codes, int64_t H, int64_t W) {
  const std::vector<Walk> walks = check_walk_merge_args(y_in, codes, H, W);
  const c10::cuda::CUDAGuard guard(y_in.device());
  const at::Tensor y = y_in.contiguous();
  const int64_t B = y.size(0), C = y.size(2);
  const WalkList list = walk_list(walks, "walk_merge");
  at::Tensor out = at::empty({B, C, H, W}, y.options());
  if (out.numel() > 0) launch_walks(y, out, list, B, C, H, W, /*merge=*/true);
  return out;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("walk_flatten", &vss::cuda::walk_flatten_cuda);
  m.impl("walk_merge", &vss::cuda::walk_merge_cuda);
}
