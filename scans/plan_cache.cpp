// Process-wide cache of scan plans keyed by (strategy, params, H, W, device).
#include "scans/scan_strategy.h"

#include <torch/torch.h>

#include <map>
#include <mutex>
#include <tuple>

namespace vss {

const ScanPlan& cached_plan(const ScanStrategy& strategy, int64_t H, int64_t W,
                            const at::Device& device) {
  using Key = std::tuple<std::string, int64_t, int64_t, std::string>;
  static std::mutex mutex;
  static std::map<Key, ScanPlan> cache;  // std::map: references stay valid as it grows

  const std::string id = strategy.name() + "(" + strategy.params_key() + ")";
  const Key key{id, H, W, device.str()};
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  const Key cpu_key{id, H, W, at::Device(at::kCPU).str()};
  auto cpu_it = cache.find(cpu_key);
  if (cpu_it == cache.end()) cpu_it = cache.emplace(cpu_key, strategy.make_plan(H, W)).first;
  if (device.is_cpu()) return cpu_it->second;

  ScanPlan moved = cpu_it->second;
  moved.index = moved.index.to(device);
  if (moved.merge_weight.defined()) moved.merge_weight = moved.merge_weight.to(device);
  return cache.emplace(key, std::move(moved)).first->second;
}

}  // namespace vss
