// vss-bench on the CPU, where no peak memory is measured: the table says "n/a" and the JSON
// null, not a made-up -1.
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vss::test {
namespace {

#ifdef VSS_BENCH_PATH
TEST(BenchApp, CpuPeakMemoryIsNotApplicable) {
  const std::vector<std::string> args{"model", "--config", (source_dir() / "configs/backbones/vss_tiny_test.yaml").string(),
                                      "--device", "cpu", "--res", "32", "--batch", "1", "--repeat", "1", "--warmup", "0"};
  std::string out;
  ASSERT_EQ(run_command(VSS_BENCH_PATH, args, &out), 0) << out;
  EXPECT_NE(out.find("peak           n/a"), std::string::npos) << out;
  EXPECT_EQ(out.find("-1.0"), std::string::npos) << out;
  auto json_args = args;
  json_args.push_back("--json");
  ASSERT_EQ(run_command(VSS_BENCH_PATH, json_args, &out), 0) << out;
  const nlohmann::json report = json_of(out);
  ASSERT_TRUE(report.contains("peak_mib")) << out;
  EXPECT_TRUE(report["peak_mib"].is_null()) << out;
}
#endif

}  // namespace
}  // namespace vss::test
