#pragma once
// Timing helpers for the benchmarks: the median of repeated runs (CUDA events on a GPU, a
// steady clock after synchronising otherwise), and the device's copy bandwidth measured in
// the same process, the yardstick every memory-bound kernel is compared with.
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>

namespace vss::bench {

// Median milliseconds of `iters` runs of fn, after `warmup` untimed runs.
double median_ms(const std::function<void()>& fn, const c10::Device& device, int warmup = 3,
                 int iters = 20);

// Device-to-device copy bandwidth in GB/s, counting bytes read plus bytes written, from the
// median time of copying a buffer of `bytes` (large enough to defeat the caches).
double copy_bandwidth_gbs(const c10::Device& device, int64_t bytes = int64_t{1} << 30);

}  // namespace vss::bench
