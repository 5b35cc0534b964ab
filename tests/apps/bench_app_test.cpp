// vss-bench on the CPU, where no peak memory is measured: the table says "n/a" and the JSON
// null, not a made-up -1; Ctrl-C is one line, as in every app.
#include "core/image_io.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include <cmath>
#include <csignal>
#include <chrono>
#include <fstream>
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
// The loader benchmark on a small image folder: one rate per thread count (1, 2, 3), and the
// threads a rate needs at the one-thread rate, rounded up.
TEST(BenchApp, LoaderReportsRatesAndThreadsNeeded) {
  if (!all_image_formats_available()) GTEST_SKIP() << "no image codecs in this build";
  const std::filesystem::path dir = make_temp_dir("vss_bench_loader");
  for (const std::string cls : {"a", "b"})
    for (int i = 0; i < 4; ++i) {
      std::filesystem::create_directories(dir / "train" / cls);
      write_image((dir / "train" / cls / (std::to_string(i) + ".jpg")).string(),
                  torch::randint(0, 256, {60, 80, 3}, torch::kByte));
    }
  std::filesystem::copy(dir / "train", dir / "val", std::filesystem::copy_options::recursive);
  std::ofstream(dir / "cfg.yaml") << "task: {type: classification, mixup: {}}\n"
                                     "model: {type: vssm, num_classes: 2, depths: [1, 1, 1, 1], dims: [4, 8, 8, 16]}\n"
                                     "data: {type: image_folder, root: '" << dir.string() << "', train: {}, val: {},\n"
                                     "       pipeline: {size: 48, auto_augment: {type: trivial_augment_wide}}}\n"
                                     "optimizer: {type: adamw, lr: 0.001}\n"
                                     "train: {steps: 1, batch_size: 4}\n";
  std::string out;
  ASSERT_EQ(run_command(VSS_BENCH_PATH, {"loader", "--config", (dir / "cfg.yaml").string(), "--batches", "2", "--threads",
                                         "3", "--gpu-rate", "1000", "--json"},
                        &out),
            0)
      << out;
  const nlohmann::json report = json_of(out);
  ASSERT_EQ(report["rates"].size(), 3u) << out;
  EXPECT_EQ(report["rates"][2]["threads"], 3);
  const double one = report["rates"][0]["images_per_s"];
  EXPECT_GT(one, 0);
  EXPECT_EQ(report["threads_needed"], static_cast<int64_t>(std::ceil(1000.0 / one)));
  remove_tree(dir);
}
#endif

}  // namespace
}  // namespace vss::test
