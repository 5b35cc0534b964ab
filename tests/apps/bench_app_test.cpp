// vss-bench on the CPU, where no peak memory is measured: the table says "n/a" and the JSON
// null, not a made-up -1; Ctrl-C is one line, as in every app.
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <chrono>
#include <thread>

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

// Ctrl-C during a benchmark: the one line every app prints, exit 130.
TEST(BenchApp, InterruptIsOneLine) {
  const std::filesystem::path dir = make_temp_dir("vss_bench_interrupt");
  const pid_t pid = start_app(VSS_BENCH_PATH,
                              {"train", "--config", (source_dir() / "configs/backbones/vss_tiny_test.yaml").string(),
                               "--device", "cpu", "--res", "32", "--batch", "2", "--repeat", "100000000"},
                              dir / "log.txt");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // past start-up: the handler is installed
  kill(pid, SIGINT);
  EXPECT_EQ(wait_app(pid), 130);
  EXPECT_NE(read_bytes(dir / "log.txt").find("vss-bench: interrupted (SIGINT)"), std::string::npos)
      << read_bytes(dir / "log.txt");
  remove_tree(dir);
}
#endif

}  // namespace
}  // namespace vss::test
