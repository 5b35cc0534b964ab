// Every entry of parity/scans/plans.json (reference plans made from specs/scans.md and,
// where public code exists, checked against it) is reproduced exactly. Strategies are
// built through the registry from the entry's params, each value given as YAML text.
#include "scans/strategy_registry.h"
#include "tests/scans/scan_test_util.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

namespace vss {
namespace {

TEST(ScanPlansJson, parity_every_reference_plan) {
  const auto path = test::parity_dir() / "scans" / "plans.json";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "skipped: no cases (" << path << " missing)";
  const nlohmann::json entries = nlohmann::json::parse(in);
  ASSERT_TRUE(entries.is_array() && !entries.empty()) << path;
  int passed = 0;
  for (const auto& e : entries) {
    std::vector<std::string> params;
    for (const auto& [key, value] : e.at("params").items()) params.push_back(key + "=" + value.dump());
    const auto strategy = make_scan_strategy(e.at("strategy").get<std::string>(), params);
    const int64_t H = e.at("H"), W = e.at("W");
    const std::string label = e.at("strategy").get<std::string>() + " " + e.at("params").dump() + " " +
                              std::to_string(H) + "x" + std::to_string(W);
    const ScanPlan& plan = cached_plan(*strategy, H, W);
    const auto& expected = e.at("index");
    ASSERT_EQ(plan.K, static_cast<int64_t>(expected.size())) << label;
    const auto rows = test::plan_rows(plan);
    bool same = true;
    for (int64_t k = 0; k < plan.K; ++k) {
      const auto want = expected[k].get<std::vector<int32_t>>();
      // A direction shorter than L ends in -1 steps that only stack the directions.
      const test::Steps own(rows[k].begin(), rows[k].begin() + std::min<size_t>(want.size(), rows[k].size()));
      const bool end_is_padding =
          std::all_of(rows[k].begin() + own.size(), rows[k].end(), [](int32_t p) { return p == -1; });
      EXPECT_TRUE(own == want && end_is_padding) << label << " direction " << k;
      same = same && own == want && end_is_padding;
    }
    passed += same;
  }
  EXPECT_EQ(passed, static_cast<int>(entries.size()));
  std::printf("plans.json: %d / %zu reference plans reproduced\n", passed, entries.size());
}

}  // namespace
}  // namespace vss
