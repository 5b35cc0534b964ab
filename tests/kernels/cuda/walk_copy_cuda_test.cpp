// vss::walk_flatten / vss::walk_merge on CUDA against their CPU reference (kernels/walk_copy.h):
// every walk alone and VMamba's four together, the plane kernels' runs of every width and
// groups of planes, the tile kernels' ragged tiles, every dtype, a misaligned input; flatten exact, merge within the
// float32 sums' rounding. Runs on the GPU, and on the CUDA emulator (tests/emulation) where
// there is none.
#include "kernels/walk_copy.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using vss::Walk;
using vss::test::kGpu;

const std::vector<std::vector<Walk>> kWalkLists{
    {Walk::kRows, Walk::kColumns, Walk::kRowsReversed, Walk::kColumnsReversed},
    {Walk::kColumnsReversed},
    {Walk::kRowsReversed, Walk::kColumns, Walk::kColumns}};

// Plane kernels (up to 12288 tokens) with runs of 8, 4, 2 and 1 tokens, one token, a row, a
// column, odd sizes; the tile kernels past 12288 tokens (a ragged last tile).
const std::vector<std::vector<int64_t>> kMaps{{1, 1},   {1, 37},  {40, 1},   {14, 14},  {5, 7},
                                              {33, 65}, {56, 56}, {28, 28},  {7, 7},    {16, 24},
                                              {96, 128}, {111, 112}};

// Small maps on many planes: a block stages several, across images.
int64_t channels_for(const std::vector<int64_t>& map) { return map[0] * map[1] <= 64 ? 37 : 3; }

std::string label(const std::vector<int64_t>& map, size_t list, at::ScalarType t) {
  return std::to_string(map[0]) + "x" + std::to_string(map[1]) + " walks #" + std::to_string(list) + " " +
         c10::toString(t);
}

TEST(cuda_walk_copy, flatten_is_the_cpu_copy_exactly) {
  REQUIRE_GPU();
  torch::manual_seed(30);
  for (const auto& map : kMaps)
    for (size_t l = 0; l < kWalkLists.size(); ++l)
      for (auto t : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
        const auto x = torch::randn({2, channels_for(map), map[0], map[1]}).to(t);
        const auto want = vss::walk_flatten(x.to(torch::kDouble), kWalkLists[l]).to(t);
        const auto got = vss::walk_flatten(x.to(kGpu), kWalkLists[l]);
        ASSERT_EQ(got.scalar_type(), t);
        EXPECT_TRUE(torch::equal(got.cpu(), want)) << label(map, l, t);
      }
}

TEST(cuda_walk_copy, merge_matches_the_cpu_sum) {
  REQUIRE_GPU();
  torch::manual_seed(31);
  for (const auto& map : kMaps)
    for (size_t l = 0; l < kWalkLists.size(); ++l)
      for (auto t : {torch::kFloat, torch::kBFloat16}) {
        const auto K = static_cast<int64_t>(kWalkLists[l].size());
        const auto y = torch::randn({2, K, channels_for(map), map[0] * map[1]}).to(t);
        // Exact sums of the (rounded) inputs; ours rounds a float32 sum once.
        const auto exact = vss::walk_merge(y.to(torch::kDouble), kWalkLists[l], map[0], map[1]);
        const auto got = vss::walk_merge(y.to(kGpu), kWalkLists[l], map[0], map[1]);
        ASSERT_EQ(got.sizes(), exact.sizes());
        ASSERT_EQ(got.scalar_type(), t);
        const double tolerance = t == torch::kFloat ? 1e-6 : 1.6e-2;
        EXPECT_LE(((got.cpu().to(torch::kDouble) - exact).abs() / exact.abs().clamp_min(1.0)).max().item<double>(),
                  tolerance)
            << label(map, l, t);
      }
}

TEST(cuda_walk_copy, misaligned_inputs_take_narrower_runs) {
  REQUIRE_GPU();
  torch::manual_seed(32);
  const auto& cross = kWalkLists[0];
  // A contiguous 56x56 map starting one element past the storage's start: not 16-byte aligned.
  const auto storage = torch::randn({1 + 2 * 3 * 56 * 56}).to(torch::kBFloat16);
  const auto x = storage.narrow(0, 1, 2 * 3 * 56 * 56).view({2, 3, 56, 56});
  EXPECT_TRUE(torch::equal(vss::walk_flatten(storage.to(kGpu).narrow(0, 1, x.numel()).view(x.sizes()), cross).cpu(),
                           vss::walk_flatten(x.to(torch::kDouble), cross).to(torch::kBFloat16)));
  const auto y_storage = torch::randn({1 + 2 * 4 * 3 * 56 * 56});
  const auto y = y_storage.narrow(0, 1, 2 * 4 * 3 * 56 * 56).view({2, 4, 3, 56 * 56});
  const auto got = vss::walk_merge(y_storage.to(kGpu).narrow(0, 1, y.numel()).view(y.sizes()), cross, 56, 56);
  const auto exact = vss::walk_merge(y.to(torch::kDouble), cross, 56, 56);
  EXPECT_LE((got.cpu().to(torch::kDouble) - exact).abs().max().item<double>(), 1e-5);
}

TEST(cuda_walk_copy, bad_inputs_are_one_line_errors) {
  REQUIRE_GPU();
  const std::vector<Walk> cross{Walk::kRows, Walk::kColumns, Walk::kRowsReversed, Walk::kColumnsReversed};
  vss::test::expect_one_line_error([&] { vss::walk_flatten(torch::randn({2, 3, 4}).to(kGpu), cross); },
                                   "vss::walk_flatten: expected x [B, C, H, W], got [2, 3, 4]");
  vss::test::expect_one_line_error([&] { vss::walk_merge(torch::randn({2, 3, 3, 12}).to(kGpu), cross, 3, 4); },
                                   "vss::walk_merge: expected y [B, 4, C, 12], got [2, 3, 3, 12]");
  vss::test::expect_one_line_error(
      [&] { vss::walk_flatten(torch::randn({1, 1, 2, 2}).to(kGpu), std::vector<Walk>(9, Walk::kRows)); },
      "at most 8 walks, got 9");
  // And a good call beside them still works: four walks over four ones.
  EXPECT_EQ(vss::walk_flatten(torch::ones({1, 1, 2, 2}).to(kGpu), cross).sum().item<double>(), 16.0);
}

}  // namespace
