// vss-train data-parallel on CPU over gloo, as separate processes (the real code path):
//  - 2 ranks of batch 8 (launched by environment, torchrun-style) make bit-for-bit the run of
//    one process with batch 8 and 2 accumulated micro-batches: the same samples, and the
//    averages (g0 + g1) / 2 and g0 / 2 + g1 / 2 are the same floats (halving is exact);
//  - against one process with batch 16 they differ only by the summation order of the batch
//    reduction: within 1e-5 after 6 AdamW steps (float32 rounding, 6e-8 relative per
//    operation, amplified by a few steps; measured 7e-7);
//  - rank 1 writes no file and prints nothing;
//  - `--gpus 2`: SIGTERM stops both ranks at the same step with a checkpoint, and --resume
//    ends bit-identical to an uninterrupted run; resuming with another number of ranks is
//    refused; a rank killed with SIGKILL stops the run with exit code 137.
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "engine/distributed.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Tiny settings (a few seconds per run); every run single-threaded, so that reductions
// inside one micro-batch happen in the same order in every process.
std::vector<std::string> train_args(const fs::path& work_dir, const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"--config", (vss::test::source_dir() / "configs/train/shapes_tiny.yaml").string(),
                                   "--work-dir", work_dir.string(), "--quiet"};
  for (const char* s : {"train.steps=6", "data.train.size=96", "data.val.size=32", "train.eval_every=3",
                        "train.log_every=1", "train.checkpoint_every=0", "model.drop_path_rate=0",
                        "schedule.warmup_steps=1"})
    args.insert(args.end(), {"--set", s});
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  return args;
}

int run(const std::vector<std::string>& args, const fs::path& cwd, const fs::path& log,
        const std::vector<std::string>& env_extra = {}) {
  return vss::test::wait_app(vss::test::start_app("vss-train", args, log, cwd, env_extra));
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int count_lines(const fs::path& file) {
  std::ifstream in(file);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  if (fs::exists(dir))
    for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

// Tensors under `prefixes` of two checkpoints: names must match; returns the max |a - b|.
double max_difference(const fs::path& a_file, const fs::path& b_file, const std::vector<std::string>& prefixes) {
  const auto a = vss::read_safetensors(a_file), b = vss::read_safetensors(b_file);
  double worst = 0;
  size_t compared = 0;
  for (const auto& [name, t] : a.tensors) {
    bool wanted = false;
    for (const auto& p : prefixes) wanted = wanted || name.rfind(p, 0) == 0;
    if (!wanted) continue;
    const at::Tensor* other = nullptr;
    for (const auto& kv : b.tensors)
      if (kv.first == name) other = &kv.second;
    if (!other) {
      ADD_FAILURE() << name << " missing from " << b_file;
      return 1e30;
    }
    worst = std::max(worst, vss::test::max_abs_diff(t, *other));
    ++compared;
  }
  EXPECT_GT(compared, 10u);
  return worst;
}

bool gloo_available() { return vss::distributed_backend_available(c10::Device("cpu")); }

TEST(TrainDistributed, TwoRanksAreOneProcessWithTheirJointBatch) {
  if (!gloo_available()) GTEST_SKIP() << "this build has no gloo backend (libgloo-dev headers)";
  const fs::path root = vss::test::make_temp_dir("vss_train_ddp");
  for (const char* d : {"rank0", "rank1"}) fs::create_directories(root / d);

  ASSERT_EQ(run(train_args(root / "big", {"train.batch_size=16"}), root, root / "big.log"), 0) << read_text(root / "big.log");
  ASSERT_EQ(run(train_args(root / "accum", {"train.batch_size=8", "train.grad_accum=2"}), root, root / "accum.log"), 0)
      << read_text(root / "accum.log");

  // Each rank in its own empty directory with a relative --work-dir: whatever rank 1 wrote
  // would land under rank1/. The store is hosted here, as the launcher would.
  const vss::StoreServer store(2);
  pid_t pids[2];
  for (int r = 0; r < 2; ++r) {
    const fs::path dir = root / ("rank" + std::to_string(r));
    pids[r] = vss::test::start_app("vss-train", train_args("run", {"train.batch_size=8"}),
                                   root / ("rank" + std::to_string(r) + ".log"), dir,
                                   {"RANK=" + std::to_string(r), "LOCAL_RANK=" + std::to_string(r), "WORLD_SIZE=2",
                                    "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(store.port()),
                                    "TORCHELASTIC_USE_AGENT_STORE=True"});
  }
  const int rc0 = vss::test::wait_app(pids[0]), rc1 = vss::test::wait_app(pids[1]);
  ASSERT_EQ(rc0, 0) << read_text(root / "rank0.log");
  ASSERT_EQ(rc1, 0) << read_text(root / "rank1.log");

  EXPECT_EQ(listing(root / "rank1"), std::vector<std::string>{}) << "rank 1 wrote files";
  EXPECT_EQ(read_text(root / "rank1.log"), "") << "rank 1 printed";
  EXPECT_EQ(listing(root / "rank0" / "run"), listing(root / "big"));
  EXPECT_EQ(count_lines(root / "rank0" / "run" / "metrics.jsonl"), count_lines(root / "big" / "metrics.jsonl"));

  const fs::path ddp = root / "rank0" / "run" / "last.safetensors";
  EXPECT_EQ(max_difference(ddp, root / "accum" / "last.safetensors", {"model.", "ema.", "optim."}), 0.0);
  EXPECT_LT(max_difference(ddp, root / "big" / "last.safetensors", {"model."}), 1e-5);
  vss::remove_tree(root);
}

TEST(TrainDistributed, LauncherStopsRanksTogetherAndResumesExactly) {
  if (!gloo_available()) GTEST_SKIP() << "this build has no gloo backend (libgloo-dev headers)";
  const fs::path root = vss::test::make_temp_dir("vss_train_gpus");
  const std::vector<std::string> sets = {"train.steps=40", "train.batch_size=8", "train.eval_every=0",
                                         "model.drop_path_rate=0.1"};  // drop-path: the per-rank RNG streams
  auto launcher_args = [&](const fs::path& dir, bool resume) {
    auto args = train_args(dir, sets);
    if (resume) args = {"--resume", dir.string(), "--quiet"};
    args.insert(args.end(), {"--gpus", "2", "--device", "cpu"});
    return args;
  };
  ASSERT_EQ(run(launcher_args(root / "straight", false), root, root / "straight.log"), 0)
      << read_text(root / "straight.log");

  const pid_t launcher = vss::test::start_app("vss-train", launcher_args(root / "stopped", false), root / "stopped.log", root);
  const fs::path metrics = root / "stopped" / "metrics.jsonl";
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (count_lines(metrics) < 3 && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(launcher, SIGTERM);
  const int rc = vss::test::wait_app(launcher);
  const std::string json = read_text(root / "stopped" / "last.json");
  if (rc == 0) GTEST_SKIP() << "the run finished before SIGTERM arrived";
  ASSERT_EQ(rc, 128 + SIGTERM) << read_text(root / "stopped.log");
  EXPECT_EQ(json.find("\"step\": 40"), std::string::npos) << json;

  std::string out;
  EXPECT_EQ(vss::test::run_app_command("vss-train", {"--resume", (root / "stopped").string(), "--quiet"}, &out), 1);
  EXPECT_NE(out.find("2 rank(s), not 1"), std::string::npos) << out;

  ASSERT_EQ(run(launcher_args(root / "stopped", true), root, root / "resumed.log"), 0) << read_text(root / "resumed.log");
  EXPECT_EQ(max_difference(root / "straight" / "last.safetensors", root / "stopped" / "last.safetensors",
                           {"model.", "ema.", "optim."}),
            0.0);
  vss::remove_tree(root);
}

TEST(TrainDistributed, ARankKilledStopsTheRunWithItsExitCode) {
  if (!gloo_available()) GTEST_SKIP() << "this build has no gloo backend (libgloo-dev headers)";
  const fs::path root = vss::test::make_temp_dir("vss_train_kill");
  auto args = train_args(root / "run", {"train.steps=100000", "train.batch_size=8", "train.eval_every=0"});
  args.insert(args.end(), {"--gpus", "2", "--device", "cpu"});
  const pid_t launcher = vss::test::start_app("vss-train", args, root / "run.log", root);
  const fs::path metrics = root / "run" / "metrics.jsonl";
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (count_lines(metrics) < 2 && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::vector<pid_t> ranks;
  {
    std::ifstream children("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) + "/children");
    for (pid_t p; children >> p;) ranks.push_back(p);
  }
  ASSERT_EQ(ranks.size(), 2u);
  const auto killed_at = Clock::now();
  kill(ranks[1], SIGKILL);
  EXPECT_EQ(vss::test::wait_app(launcher), 128 + SIGKILL) << read_text(root / "run.log");
  EXPECT_LT(Clock::now() - killed_at, std::chrono::seconds(25));  // before the launcher's SIGKILL grace
  EXPECT_NE(kill(ranks[0], 0), 0) << "rank 0 outlived the run";
  EXPECT_NE(read_text(root / "run.log").find("was killed by signal 9"), std::string::npos) << read_text(root / "run.log");
  vss::remove_tree(root);
}

}  // namespace
