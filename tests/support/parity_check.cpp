#include "tests/support/parity_check.h"

#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace vss::test {

void expect_parity(const std::string& label, const at::Tensor& ours, const at::Tensor& official,
                   ParityTolerance tolerance) {
  ASSERT_EQ(ours.sizes(), official.sizes()) << label;
  const double err = tolerance.relative ? max_rel_diff(ours, official) : max_abs_diff(ours, official);
  const bool pass = err <= tolerance.limit;
  std::printf("%-56s %s %.3e  %s\n", label.c_str(), tolerance.relative ? "max rel err" : "max abs err", err,
              pass ? "PASS" : "FAIL");
  EXPECT_LE(err, tolerance.limit) << label;
}

}  // namespace vss::test
