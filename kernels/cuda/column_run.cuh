#pragma once
// The skeleton of the CUDA kernels that stream a [rows, C] matrix and sum its columns on the
// way: vss::column_sum, and vss::gelu_backward, whose bias gradient is the column sum of the dx
// it writes (one pass instead of a second read of dx). A block takes a run of whole rows; its
// threads split as `group` column vectors of V elements × `lanes` rows in flight, each thread
// loads kColumnRunUnroll rows before it sums them (one load in flight a thread left HBM idle),
// sums its rows in order, and the lanes are summed in order through shared memory into one
// float32 partial row a block: the same bits every run, no atomics.
#include <algorithm>
#include <cstdint>

namespace vss::cuda {

constexpr int kColumnRunThreads = 256;
constexpr int kColumnRunMaxV = 8;
constexpr int kColumnRunUnroll = 4;

struct ColumnRun {
  int64_t rows, rows_per_block;
  int C, group;  // columns; column vectors a block
};

// The runs of `blocks` blocks over rows × C, V elements a thread, at most max_group column
// vectors a block; launched on column_run_grid(a, blocks, V) with kColumnRunThreads threads.
inline ColumnRun column_run(int64_t rows, int C, int64_t blocks, int V, int max_group) {
  const int64_t vectors_per_row = (C + V - 1) / V;
  const int group = static_cast<int>(std::min<int64_t>(vectors_per_row, max_group));
  return {rows, (rows + blocks - 1) / blocks, C, group};
}

inline dim3 column_run_grid(const ColumnRun& a, int64_t blocks, int V) {
  const int64_t vectors_per_row = (a.C + V - 1) / V;
  return dim3(static_cast<unsigned>(blocks), static_cast<unsigned>((vectors_per_row + a.group - 1) / a.group));
}

// out[blockIdx.x, c] = Σ over the block's rows r of what `rows` gives for row r, columns
// c .. c + V (for the block's columns, blockIdx.y). Rows provides
//   typename Loaded                                    what one row's V elements load into;
//   load(r, c, Loaded&)                                issues those loads;
//   take(r, c, const Loaded&, float (&v)[V])           the V values summed (and any write).
// Past column C, Rows reads zeros and writes nothing (c + V may pass C).
template <int V, typename Rows>
__global__ void __launch_bounds__(kColumnRunThreads) column_run_kernel(const Rows rows, float* __restrict__ out,
                                                                       const ColumnRun a) {
  __shared__ float lanes_sum[kColumnRunThreads * kColumnRunMaxV];
  const int lanes = kColumnRunThreads / a.group;
  const int lane = threadIdx.x / a.group, gl = threadIdx.x - lane * a.group;
  const int64_t c = (static_cast<int64_t>(blockIdx.y) * a.group + gl) * V;
  const bool active = lane < lanes && c < a.C;
  float acc[V];
#pragma unroll
  for (int i = 0; i < V; ++i) acc[i] = 0.f;
  const int64_t r0 = blockIdx.x * a.rows_per_block;
  const int64_t r1 = min(a.rows, r0 + a.rows_per_block);
  if (active) {
    int64_t r = r0 + lane;
    for (; r + (kColumnRunUnroll - 1) * lanes < r1; r += kColumnRunUnroll * lanes) {
      typename Rows::Loaded loaded[kColumnRunUnroll];
#pragma unroll
      for (int u = 0; u < kColumnRunUnroll; ++u) rows.load(r + u * lanes, c, loaded[u]);
#pragma unroll
      for (int u = 0; u < kColumnRunUnroll; ++u) {
        float v[V];
        rows.take(r + u * lanes, c, loaded[u], v);
#pragma unroll
        for (int i = 0; i < V; ++i) acc[i] += v[i];
      }
    }
    for (; r < r1; r += lanes) {
      typename Rows::Loaded loaded;
      rows.load(r, c, loaded);
      float v[V];
      rows.take(r, c, loaded, v);
#pragma unroll
      for (int i = 0; i < V; ++i) acc[i] += v[i];
    }
  }
  if (lanes > 1) {
    if (active) {
#pragma unroll
      for (int i = 0; i < V; ++i) lanes_sum[threadIdx.x * V + i] = acc[i];
    }
    __syncthreads();
    if (!active || lane != 0) return;
    for (int l = 1; l < lanes; ++l) {
#pragma unroll
      for (int i = 0; i < V; ++i) acc[i] += lanes_sum[(l * a.group + gl) * V + i];
    }
  } else if (!active) {
    return;
  }
  float* o = out + static_cast<int64_t>(blockIdx.x) * a.C + c;
#pragma unroll
  for (int i = 0; i < V; ++i)
    if (c + i < a.C) o[i] = acc[i];
}

}  // namespace vss::cuda
