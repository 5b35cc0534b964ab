// plan_to_json (what `vss-bench plan --json` prints) and the readable grid.
#include "scans/cross_scan.h"
#include "scans/local_window_scan.h"
#include "scans/plan_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vss {
namespace {

TEST(PlanFormat, JsonHasExactlyTheDocumentedKeys) {
  const std::string text = plan_to_json("cross", CrossScan().make_plan(2, 3));
  EXPECT_EQ(text,
            R"({"strategy":"cross","H":2,"W":3,"K":4,"index":[[0,1,2,3,4,5],[0,3,1,4,2,5],)"
            R"([5,4,3,2,1,0],[5,2,4,1,3,0]]})");
}

TEST(PlanFormat, JsonListsEachDirectionWithItsOwnLength) {
  // w2 with pad on 3x1: the map pads to 4x2 (8 steps); h has the 3 tokens only.
  const ScanPlan plan = LocalWindowScan({"w2", "h"}, true).make_plan(3, 1);
  const auto j = nlohmann::json::parse(plan_to_json("local_window", plan));
  EXPECT_EQ(j["index"], nlohmann::json::parse("[[0,-1,1,-1,2,-1,-1,-1],[0,1,2]]"));
  EXPECT_EQ(j["K"], 2);
}

TEST(PlanFormat, GridShowsTheStepOfEachCell) {
  const ScanPlan plan = LocalWindowScan({"v", "w2_flip"}, true).make_plan(2, 3);
  EXPECT_EQ(plan_to_grid("local_window", plan),
            "local_window: 2x3, K = 2, L = 8\n"
            "\ndirection 0 (6 steps, 0 padding)\n"
            " 0 2 4\n"
            " 1 3 5\n"
            "\ndirection 1 (8 steps, 2 padding)\n"
            " 7 6 3\n"
            " 5 4 1\n");
}

}  // namespace
}  // namespace vss
