// vss::column_sum on the CPU (the reference the CUDA kernel is held to): sums of every column
// against float64 sums, no rows, one row, the result dtype, and the bad-input messages.
#include "kernels/column_sum.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using vss::test::expect_one_line_error;
using vss::test::max_abs_diff;

TEST(column_sum, sums_every_column_in_float32) {
  torch::manual_seed(1);
  const auto x = torch::randn({37, 5}).to(torch::kBFloat16);
  const auto got = vss::column_sum(x);
  ASSERT_EQ(got.scalar_type(), torch::kFloat);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{5}));
  EXPECT_LE(max_abs_diff(got, x.to(torch::kDouble).sum(0)), 1e-5);
  // By hand: [[1, 2], [3, 4], [5, 6]] -> [9, 12].
  EXPECT_TRUE(torch::equal(vss::column_sum(torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).view({3, 2})),
                           torch::tensor({9.f, 12.f})));
}

TEST(column_sum, no_rows_give_zeros_and_float64_stays_float64) {
  EXPECT_TRUE(torch::equal(vss::column_sum(torch::zeros({0, 3})), torch::zeros({3})));
  EXPECT_EQ(vss::column_sum(torch::ones({2, 3}, torch::kDouble)).scalar_type(), torch::kDouble);
}

TEST(column_sum, bad_inputs_name_the_shape) {
  expect_one_line_error([] { vss::column_sum(torch::ones({2, 3, 4})); }, "x must have shape [M, C], got [2, 3, 4]");
  expect_one_line_error([] { vss::column_sum(torch::ones({2, 3}, torch::kInt)); },
                        "x must be float32, float16, bfloat16 or float64");
}

}  // namespace
