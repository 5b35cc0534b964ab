#include "heads/track/linear_assignment.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace vss::track {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Shortest augmenting path for rows <= cols: each row in turn is added by a Dijkstra-like
// search over reduced costs (dual variables u, v), then the path is flipped. Returns
// col_of_row, or an empty vector when some row cannot be matched with a finite cost.
std::vector<int64_t> solve_wide(const std::vector<double>& c, int64_t n, int64_t m) {
  std::vector<double> u(n, 0), v(m, 0), shortest(m);
  std::vector<int64_t> path(m, -1), col_of_row(n, -1), row_of_col(m, -1), remaining(m);
  std::vector<char> row_seen(n), col_done(m);
  for (int64_t start = 0; start < n; ++start) {
    std::fill(shortest.begin(), shortest.end(), kInf);
    std::fill(row_seen.begin(), row_seen.end(), 0);
    std::fill(col_done.begin(), col_done.end(), 0);
    for (int64_t j = 0; j < m; ++j) remaining[j] = m - 1 - j;
    int64_t num_remaining = m, sink = -1, i = start;
    double min_val = 0;
    while (sink < 0) {
      row_seen[i] = 1;
      int64_t best = -1;
      double lowest = kInf;
      for (int64_t k = 0; k < num_remaining; ++k) {
        const int64_t j = remaining[k];
        const double r = min_val + c[i * m + j] - u[i] - v[j];
        if (r < shortest[j]) path[j] = i, shortest[j] = r;
        // Ties prefer a free column: the search ends sooner.
        if (shortest[j] < lowest || (shortest[j] == lowest && row_of_col[j] < 0)) lowest = shortest[j], best = k;
      }
      min_val = lowest;
      if (min_val == kInf) return {};
      const int64_t j = remaining[best];
      if (row_of_col[j] < 0) sink = j;
      else i = row_of_col[j];
      col_done[j] = 1;
      remaining[best] = remaining[--num_remaining];
    }
    u[start] += min_val;
    for (int64_t r = 0; r < n; ++r)
      if (row_seen[r] && r != start) u[r] += min_val - shortest[col_of_row[r]];
    for (int64_t j = 0; j < m; ++j)
      if (col_done[j]) v[j] -= min_val - shortest[j];
    for (int64_t j = sink;;) {  // flip the alternating path back to `start`
      const int64_t r = path[j];
      row_of_col[j] = r;
      std::swap(col_of_row[r], j);
      if (r == start) break;
    }
  }
  return col_of_row;
}

// Full min(rows, cols) assignment; col_of_row[r] = -1 for rows left over when rows > cols.
std::vector<int64_t> solve_rectangular(const std::vector<double>& cost, int64_t rows, int64_t cols) {
  if (rows <= cols) {
    auto col_of_row = solve_wide(cost, rows, cols);
    if (col_of_row.empty() && rows > 0) throw Error("linear assignment: the cost matrix is infeasible (forbidden entries leave a row unmatched)");
    return col_of_row;
  }
  std::vector<double> t(cost.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = cost[r * cols + c];
  const auto row_of_col = solve_wide(t, cols, rows);
  if (row_of_col.empty() && cols > 0) throw Error("linear assignment: the cost matrix is infeasible (forbidden entries leave a column unmatched)");
  std::vector<int64_t> col_of_row(rows, -1);
  for (int64_t c = 0; c < cols; ++c) col_of_row[row_of_col[c]] = c;
  return col_of_row;
}

// lap's extended problem, one connected component at a time: rows and columns are linked by
// the pairs below the limit, and no optimal matching uses any other pair (matching one costs
// at least the limit, as much as leaving both unmatched), so the components' optima add up
// to the whole one's. A tracker's IoU costs link each track to a few detections, so this
// turns one O((rows+cols)^3) solve into many tiny ones.
std::vector<int64_t> solve_limited(const std::vector<double>& cost, int64_t rows, int64_t cols, double limit) {
  std::vector<int64_t> parent(rows + cols);
  for (int64_t i = 0; i < rows + cols; ++i) parent[i] = i;
  auto find = [&](int64_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (cost[r * cols + c] < limit) parent[find(r)] = find(rows + c);
  std::vector<std::vector<int64_t>> members(rows + cols);  // by root: rows, then cols + rows
  for (int64_t i = 0; i < rows + cols; ++i) members[find(i)].push_back(i);

  std::vector<int64_t> col_of_row(rows, -1);
  const double half = limit / 2;
  for (const auto& group : members) {
    std::vector<int64_t> rs, cs;
    for (int64_t i : group) (i < rows ? rs : cs).push_back(i < rows ? i : i - rows);
    if (rs.empty() || cs.empty()) continue;  // nothing to match
    // (r+c)^2: real block (pairs at or over the limit forbidden), dummy blocks at limit/2 so
    // leaving a row and a column unmatched costs the limit, zero corner block.
    const int64_t nr = static_cast<int64_t>(rs.size()), nc = static_cast<int64_t>(cs.size()), n = nr + nc;
    std::vector<double> ext(n * n, 0.0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double& e = ext[r * n + c];
        if (r < nr && c < nc) {
          const double x = cost[rs[r] * cols + cs[c]];
          e = x < limit ? x : kInf;
        } else if (r < nr || c < nc) {
          e = half;
        }
      }
    const auto local = solve_rectangular(ext, n, n);
    for (int64_t r = 0; r < nr; ++r)
      if (local[r] < nc) col_of_row[rs[r]] = cs[local[r]];
  }
  return col_of_row;
}

}  // namespace

Assignment solve_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols,
                            std::optional<double> cost_limit) {
  if (rows < 0 || cols < 0 || static_cast<int64_t>(cost.size()) != rows * cols)
    throw Error("linear assignment: cost has " + std::to_string(cost.size()) + " entries, expected " +
                std::to_string(rows) + " x " + std::to_string(cols));
  for (double x : cost)
    if (std::isnan(x) || x == -kInf) throw Error("linear assignment: cost entries must be numbers or +inf, got " + std::to_string(x));
  if (cost_limit && !(std::isfinite(*cost_limit)))
    throw Error("linear assignment: cost_limit must be finite, got " + std::to_string(*cost_limit));

  std::vector<int64_t> col_of_row;
  if (!cost_limit) {
    col_of_row = solve_rectangular(cost, rows, cols);
  } else {
    col_of_row = solve_limited(cost, rows, cols, *cost_limit);
  }

  Assignment a;
  std::vector<char> col_used(cols, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = col_of_row[r];
    if (c < 0) {
      a.unmatched_rows.push_back(r);
      continue;
    }
    a.matches.emplace_back(r, c);
    a.cost += cost[r * cols + c];
    col_used[c] = 1;
  }
  for (int64_t c = 0; c < cols; ++c)
    if (!col_used[c]) a.unmatched_cols.push_back(c);
  return a;
}

}  // namespace vss::track
