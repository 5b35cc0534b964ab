#pragma once
// Sequence splitting in the CUDA scans. A scan parallelises over (batch, channel) and walks
// the sequence; where those alone leave most of the GPU idle (restoration at full resolution:
// batch 1, ~72 channels, L = H·W in the hundreds of thousands), the CUDA kernels split L into
// segments run by separate blocks: a first pass sums each segment (its end state from a zero
// start, and Σ Δ, which gives its decay exp(A·ΣΔ)), the second scans every segment from the
// entry state those summaries compose to. No effect on CPU.
namespace vss {

// 0 (the default): split only where (batch × channels) fills at most half the GPU (the plain
// op) or a quarter (the plan op, whose summary pass repeats its gathers); the channel-last
// plan op wherever its batch × D/32 warps would not fill the GPU twice over.
// 1: never split (with N = 1 the plain op then always takes its warp kernels, forward and
// backward).
// n > 1: always split into n segments (fewer where the sequence is shorter) — for tests of
// both paths and for benchmarks that compare them.
void set_scan_split(int segments);
int scan_split();

}  // namespace vss
