// The assignment solver against scipy.optimize.linear_sum_assignment on random matrices that
// the Python side generates (and solves) itself: square, rectangular both ways, integer costs
// with many ties, forbidden (+inf) entries, empty shapes; the cost-limit variant against
// scipy on lap's extended matrix (dummy rows/cols at limit/2, zero corner).
#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/track/linear_assignment.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace vss::test {
namespace {

using track::solve_assignment;

constexpr char kAssignmentOracle[] = R"PY(
import sys, numpy as np
from scipy.optimize import linear_sum_assignment
rng = np.random.default_rng(7)
out = open(sys.argv[1], "w")
def emit(c, limit, expected):
    r, k = c.shape
    vals = " ".join("inf" if np.isinf(x) else repr(float(x)) for x in c.ravel())
    out.write(f"{r} {k} {limit} {expected} {vals}\n")
shapes = [(0, 0), (0, 3), (3, 0), (1, 1), (1, 5), (5, 1)]
shapes += [(int(a), int(b)) for a, b in rng.integers(1, 12, size=(300, 2))]
for case, (r, k) in enumerate(shapes):
    kind = case % 4
    if kind == 0: c = rng.integers(0, 4, size=(r, k)).astype(float)      # many ties
    elif kind == 1: c = rng.random((r, k)) * 10
    elif kind == 2: c = rng.integers(-5, 20, size=(r, k)).astype(float)  # negative costs too
    else:
        c = rng.integers(0, 9, size=(r, k)).astype(float)
        c[rng.random((r, k)) < (0.3 if case % 8 == 3 else 0.6)] = np.inf    # forbidden pairs
    try:
        rows, cols = linear_sum_assignment(c)
        emit(c, "none", repr(float(c[rows, cols].sum())))
    except ValueError:
        emit(c, "none", "infeasible")
    # Thresholded: lap.lapjv(extend_cost=True, cost_limit=L) semantics.
    limit = float(rng.integers(1, 9)) + 0.5 if kind != 1 else float(rng.random() * 10)
    n = r + k
    ext = np.zeros((n, n))
    ext[:r, :k] = c
    ext[:r, k:] = limit / 2
    ext[r:, :k] = limit / 2
    rows, cols = linear_sum_assignment(ext)
    emit(c, repr(limit), repr(float(ext[rows, cols].sum())))
out.close()
)PY";

struct Case {
  int64_t rows = 0, cols = 0;
  std::string limit, expected;
  std::vector<double> cost;
};

std::vector<Case> make_cases() {
  const auto dir = make_temp_dir("vss_lap");
  const auto file = dir / "cases.txt";
  std::string out;
  const int rc = run_python(kAssignmentOracle, {file.string()}, &out);
  EXPECT_EQ(rc, 0) << out;
  std::vector<Case> cases;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ss(line);
    Case c;
    ss >> c.rows >> c.cols >> c.limit >> c.expected;
    for (std::string v; ss >> v;) c.cost.push_back(v == "inf" ? std::numeric_limits<double>::infinity() : std::stod(v));
    cases.push_back(std::move(c));
  }
  remove_tree(dir);
  return cases;
}

// Every row and column appears once, as a match or as unmatched; the reported cost adds up.
void check_consistent(const track::Assignment& a, const Case& c) {
  std::set<int64_t> rows, cols;
  double sum = 0;
  for (auto [r, k] : a.matches) {
    EXPECT_TRUE(rows.insert(r).second);
    EXPECT_TRUE(cols.insert(k).second);
    EXPECT_TRUE(std::isfinite(c.cost[r * c.cols + k]));
    sum += c.cost[r * c.cols + k];
  }
  for (int64_t r : a.unmatched_rows) EXPECT_TRUE(rows.insert(r).second);
  for (int64_t k : a.unmatched_cols) EXPECT_TRUE(cols.insert(k).second);
  EXPECT_EQ(static_cast<int64_t>(rows.size()), c.rows);
  EXPECT_EQ(static_cast<int64_t>(cols.size()), c.cols);
  EXPECT_DOUBLE_EQ(a.cost, sum);
}

TEST(LinearAssignment, MatchesScipyOnRandomMatrices) {
  if (!python_has({"scipy"})) GTEST_SKIP() << "scipy is not importable by $VSS_PYTHON";
  const auto cases = make_cases();
  ASSERT_EQ(cases.size(), 612u);
  int infeasible = 0, limited = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                 " limit " + c.limit);
    if (c.limit == "none") {
      if (c.expected == "infeasible") {
        ++infeasible;
        EXPECT_THROW(solve_assignment(c.cost, c.rows, c.cols), Error);
        continue;
      }
      const auto a = solve_assignment(c.cost, c.rows, c.cols);
      check_consistent(a, c);
      EXPECT_EQ(static_cast<int64_t>(a.matches.size()), std::min(c.rows, c.cols));
      EXPECT_NEAR(a.cost, std::stod(c.expected), 1e-9);  // integer cases: exact sums of small integers
    } else {
      ++limited;
      const double limit = std::stod(c.limit);
      const auto a = solve_assignment(c.cost, c.rows, c.cols, limit);
      check_consistent(a, c);
      for (auto [r, k] : a.matches) EXPECT_LT(c.cost[r * c.cols + k], limit);
      const double objective =
          a.cost + limit / 2 * static_cast<double>(a.unmatched_rows.size() + a.unmatched_cols.size());
      EXPECT_NEAR(objective, std::stod(c.expected), 1e-9);
    }
  }
  EXPECT_GE(infeasible, 3);  // the forbidden-entry cases really exercise the error path (5 with this seed)
  EXPECT_EQ(limited, 306);
}

TEST(LinearAssignment, SmallHandCases) {
  // [[4, 1, 3], [2, 0, 5], [3, 2, 2]]: optimum 1 + 2 + 2 = 5 (rows 0-1, 1-0, 2-2).
  const auto a = solve_assignment({4, 1, 3, 2, 0, 5, 3, 2, 2}, 3, 3);
  EXPECT_DOUBLE_EQ(a.cost, 5);
  ASSERT_EQ(a.matches.size(), 3u);
  EXPECT_EQ(a.matches[0], std::make_pair(int64_t{0}, int64_t{1}));
  EXPECT_EQ(a.matches[1], std::make_pair(int64_t{1}, int64_t{0}));
  EXPECT_EQ(a.matches[2], std::make_pair(int64_t{2}, int64_t{2}));
  // Cost limit 0.5 on IoU distances: only the 0.1 pair is close enough.
  const auto b = solve_assignment({0.1, 0.9, 0.8, 0.7}, 2, 2, 0.5);
  ASSERT_EQ(b.matches.size(), 1u);
  EXPECT_EQ(b.matches[0], std::make_pair(int64_t{0}, int64_t{0}));
  EXPECT_EQ(b.unmatched_rows, std::vector<int64_t>{1});
  EXPECT_EQ(b.unmatched_cols, std::vector<int64_t>{1});
  // A pair exactly at the limit is not matched (ByteTrack: cost below the threshold).
  EXPECT_TRUE(solve_assignment({0.5}, 1, 1, 0.5).matches.empty());
}

TEST(LinearAssignment, BadInputIsAnError) {
  EXPECT_THROW(solve_assignment({1, 2, 3}, 2, 2), Error);
  EXPECT_THROW(solve_assignment({std::nan("")}, 1, 1), Error);
  EXPECT_THROW(solve_assignment({-std::numeric_limits<double>::infinity()}, 1, 1), Error);
  EXPECT_THROW(solve_assignment({1}, 1, 1, std::numeric_limits<double>::infinity()), Error);
  EXPECT_THROW(solve_assignment({std::numeric_limits<double>::infinity()}, 1, 1), Error);  // infeasible
}

}  // namespace
}  // namespace vss::test
