#pragma once
// Optimal rectangular linear assignment (minimum total cost), shortest augmenting paths in
// the Jonker-Volgenant style, in double. Used by the tracker's association (with a cost
// limit, as ByteTrack's lap.lapjv(extend_cost=True, cost_limit=...)) and by the MOT metrics
// (Hungarian matching as scipy.optimize.linear_sum_assignment).
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace vss::track {

struct Assignment {
  std::vector<std::pair<int64_t, int64_t>> matches;  // (row, col), rows ascending
  std::vector<int64_t> unmatched_rows, unmatched_cols;  // ascending
  double cost = 0;                                      // sum over matches
};

// `cost` is row-major rows x cols; +inf marks a forbidden pair, NaN and -inf are errors.
// Without a limit, min(rows, cols) pairs are matched (as scipy); a vss::Error says so when
// the forbidden entries make that impossible. With a limit, a pair is matched only if its
// cost is below the limit, and the matching minimises (sum of matched costs) +
// limit/2 per unmatched row or column: lap's extended square matrix.
Assignment solve_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols,
                            std::optional<double> cost_limit = std::nullopt);

}  // namespace vss::track
