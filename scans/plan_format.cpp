#include "scans/plan_format.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <iomanip>

namespace vss {

namespace {
// Steps of direction k, without the end padding that only stacks directions into [K, L].
std::vector<int32_t> direction_steps(const ScanPlan& plan, int64_t k) {
  const at::Tensor index = plan.index.to(at::kCPU).contiguous();
  const int64_t n = plan.lengths.empty() ? plan.L : plan.lengths[k];
  const int32_t* row = index.data_ptr<int32_t>() + k * plan.L;
  return {row, row + n};
}
}  // namespace

std::string plan_to_json(const std::string& strategy, const ScanPlan& plan) {
  nlohmann::ordered_json j;
  j["strategy"] = strategy;
  j["H"] = plan.H;
  j["W"] = plan.W;
  j["K"] = plan.K;
  j["index"] = nlohmann::json::array();
  for (int64_t k = 0; k < plan.K; ++k) j["index"].push_back(direction_steps(plan, k));
  return j.dump();
}

std::string plan_to_grid(const std::string& strategy, const ScanPlan& plan) {
  std::ostringstream out;
  out << strategy << ": " << plan.H << "x" << plan.W << ", K = " << plan.K << ", L = " << plan.L
      << "\n";
  const int width = static_cast<int>(std::to_string(std::max<int64_t>(plan.L - 1, 0)).size()) + 1;
  for (int64_t k = 0; k < plan.K; ++k) {
    const std::vector<int32_t> steps = direction_steps(plan, k);
    std::vector<int64_t> step_of(plan.H * plan.W, -1);
    int64_t padding = 0;
    for (size_t t = 0; t < steps.size(); ++t) {
      if (steps[t] < 0) ++padding;
      else if (step_of[steps[t]] < 0) step_of[steps[t]] = static_cast<int64_t>(t);
    }
    out << "\ndirection " << k << " (" << steps.size() << " steps, " << padding << " padding)\n";
    for (int64_t h = 0; h < plan.H; ++h) {
      for (int64_t w = 0; w < plan.W; ++w) {
        const int64_t s = step_of[h * plan.W + w];
        out << std::setw(width) << (s < 0 ? std::string(".") : std::to_string(s));
      }
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace vss
