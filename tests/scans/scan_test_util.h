#pragma once
// Small helpers for the scan tests: plans as nested vectors, for readable comparisons.
#include "scans/scan_plan.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace vss::test {

using Steps = std::vector<int32_t>;

// index[k] as a vector (all L steps, end padding included).
inline std::vector<Steps> plan_rows(const ScanPlan& plan) {
  const at::Tensor index = plan.index.contiguous();
  std::vector<Steps> rows;
  for (int64_t k = 0; k < plan.K; ++k) {
    const int32_t* row = index.data_ptr<int32_t>() + k * plan.L;
    rows.emplace_back(row, row + plan.L);
  }
  return rows;
}

}  // namespace vss::test
