// Mixed-precision training on the GPU: bf16 autocast trains; fp16 with the dynamic loss
// scaler resumes where it stopped (the scaler state is in the checkpoint).
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "engine/trainer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <csignal>

namespace fs = std::filesystem;

namespace {

vss::TrainerOptions on_cuda(const fs::path& dir, bool resume = false) {
  vss::TrainerOptions o;
  o.run_dir = dir;
  o.resume = resume;
  o.progress = false;
  o.device = "cuda";
  return o;
}

}  // namespace

TEST(TrainerCuda, Bf16AndFp16Train) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const fs::path root = vss::test::make_temp_dir("vss_train_cuda_amp");
  for (const char* p : {"bf16", "fp16"}) {
    const auto r = vss::train(vss::test::tiny_train_config({std::string("train.precision=") + p, "train.steps=40"}),
                              on_cuda(root / p));
    EXPECT_TRUE(std::isfinite(r.last_loss)) << p;
    EXPECT_LT(r.last_loss, r.first_loss) << p;
  }
  vss::remove_tree(root);
}

TEST(TrainerCuda, Fp16ResumeMatchesTheUninterruptedRun) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const fs::path root = vss::test::make_temp_dir("vss_train_cuda_resume");
  const auto config = vss::test::tiny_train_config({"train.precision=fp16"});
  vss::train(config, on_cuda(root / "straight"));
  auto first = on_cuda(root / "resumed");
  first.after_step = [](int64_t done) {
    if (done == 5) std::raise(SIGINT);
  };
  EXPECT_EQ(vss::train(config, first).steps_done, 5);
  EXPECT_EQ(vss::train(config, on_cuda(root / "resumed", true)).steps_done, 10);
  const auto a = vss::read_safetensors(root / "straight" / "last.safetensors");
  const auto b = vss::read_safetensors(root / "resumed" / "last.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  bool has_scaler = false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    ASSERT_EQ(a.tensors[i].first, b.tensors[i].first);
    has_scaler |= a.tensors[i].first == "scaler.scale";
    // Determinism of the CUDA backward (atomics) is not guaranteed: compare weights with a
    // tight bound, everything else exactly.
    const std::string& name = a.tensors[i].first;
    if (name.rfind("model.", 0) == 0 || name.rfind("ema.", 0) == 0 || name.rfind("optim.", 0) == 0) {
      EXPECT_LT(vss::test::max_abs_diff(a.tensors[i].second, b.tensors[i].second), 1e-4) << name;
    } else if (name.rfind("rng.", 0) != 0) {
      EXPECT_TRUE(torch::equal(a.tensors[i].second, b.tensors[i].second)) << name;
    }
  }
  EXPECT_TRUE(has_scaler);
  vss::remove_tree(root);
}
