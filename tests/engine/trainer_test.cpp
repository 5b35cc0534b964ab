// The training loop on the tiny classifier and generated shapes (CPU): bit-identical resume
// after a real SIGINT, SIGTERM handling, gradient accumulation, metrics.jsonl and
// checkpoints readable by the safetensors package, refusals, and train.eval_ema (scored
// against the EMA weights evaluated afresh from the checkpoint).
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "engine/task.h"
#include "engine/trainer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <csignal>
#include <fstream>

namespace {

namespace fs = std::filesystem;

vss::TrainerOptions options_for(const fs::path& dir, bool resume = false) {
  vss::TrainerOptions o;
  o.run_dir = dir;
  o.resume = resume;
  o.progress = false;
  return o;
}

TEST(Trainer, ResumeAfterSigintIsBitIdentical) {
  const fs::path root = vss::test::make_temp_dir("vss_train_resume");
  // Drop-path on, so the resumed run also depends on the restored RNG state.
  const vss::Config config = vss::test::tiny_train_config({"model.drop_path_rate=0.1"});

  const auto straight = vss::train(config, options_for(root / "straight"));
  EXPECT_EQ(straight.steps_done, 10);
  EXPECT_EQ(straight.interrupted_by, 0);

  auto first = options_for(root / "resumed");
  first.after_step = [](int64_t done) {
    if (done == 5) std::raise(SIGINT);  // the real signal path: handler sets the flag
  };
  const auto interrupted = vss::train(config, first);
  EXPECT_EQ(interrupted.interrupted_by, SIGINT);
  EXPECT_EQ(interrupted.steps_done, 5);
  EXPECT_EQ(vss::read_safetensors(root / "resumed" / "last.safetensors").metadata.at("step"), "5");

  const auto resumed = vss::train(config, options_for(root / "resumed", /*resume=*/true));
  EXPECT_EQ(resumed.steps_done, 10);

  const auto a = vss::read_safetensors(root / "straight" / "last.safetensors");
  const auto b = vss::read_safetensors(root / "resumed" / "last.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  size_t models = 0, emas = 0, optims = 0;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    ASSERT_EQ(a.tensors[i].first, b.tensors[i].first);
    EXPECT_TRUE(torch::equal(a.tensors[i].second, b.tensors[i].second)) << a.tensors[i].first;
    const auto& name = a.tensors[i].first;
    models += name.rfind("model.", 0) == 0;
    emas += name.rfind("ema.", 0) == 0;
    optims += name.rfind("optim.", 0) == 0;
  }
  EXPECT_GT(models, 10u);
  EXPECT_EQ(emas, models);
  EXPECT_GT(optims, models);  // step, exp_avg, exp_avg_sq per parameter
  EXPECT_EQ(resumed.best_metric, straight.best_metric);
  vss::remove_tree(root);
}

TEST(Trainer, SigtermSavesAtTheStepBoundaryAndResumeRefusesAnotherConfig) {
  const fs::path root = vss::test::make_temp_dir("vss_train_sigterm");
  auto o = options_for(root);
  o.after_step = [](int64_t done) {
    if (done == 3) std::raise(SIGTERM);
  };
  const auto r = vss::train(vss::test::tiny_train_config(), o);
  EXPECT_EQ(r.interrupted_by, SIGTERM);
  EXPECT_EQ(r.steps_done, 3);
  std::ifstream json(root / "last.json");
  std::string text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"step\": 3"), std::string::npos) << text;

  try {
    vss::train(vss::test::tiny_train_config({"optimizer.lr=0.5", "data.noise=0.2"}), options_for(root, true));
    FAIL() << "resumed with another config";
  } catch (const vss::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("optimizer.lr"), std::string::npos) << what;
    EXPECT_NE(what.find("data.noise"), std::string::npos) << what;
  }
  // A longer step budget is not a different run.
  EXPECT_EQ(vss::train(vss::test::tiny_train_config({"train.steps=4"}), options_for(root, true)).steps_done, 4);
  // Starting afresh over an existing run is refused.
  EXPECT_THROW(vss::train(vss::test::tiny_train_config(), options_for(root)), vss::Error);
  vss::remove_tree(root);
}

TEST(Trainer, GradientAccumulationEqualsTheLargerBatch) {
  // Two micro-batches of 8 are the samples of one batch of 16 (same sampler stream); without
  // drop-path the averaged gradients match up to float rounding.
  const fs::path root = vss::test::make_temp_dir("vss_train_accum");
  const std::vector<std::string> common = {"model.drop_path_rate=0.0", "train.steps=3", "train.clip_grad_norm=0"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return vss::test::tiny_train_config(extra);
  };
  vss::train(with({"train.batch_size=8", "train.grad_accum=2"}), options_for(root / "accum"));
  vss::train(with({"train.batch_size=16", "train.grad_accum=1"}), options_for(root / "big"));
  const auto a = vss::read_safetensors(root / "accum" / "last.safetensors");
  const auto b = vss::read_safetensors(root / "big" / "last.safetensors");
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    if (a.tensors[i].first.rfind("model.", 0) == 0) {
      EXPECT_LT(vss::test::max_abs_diff(a.tensors[i].second, b.tensors[i].second), 1e-4) << a.tensors[i].first;
    }
  }
  vss::remove_tree(root);
}

TEST(Trainer, MetricsAndCheckpointsAreWritten) {
  const fs::path root = vss::test::make_temp_dir("vss_train_files");
  const auto r = vss::train(vss::test::tiny_train_config({"train.steps=40", "train.log_every=10", "train.eval_every=20",
                                         "train.checkpoint_every=20", "data.train.size=400", "data.val.size=100"}),
                            options_for(root));
  EXPECT_TRUE(std::isfinite(r.last_loss));
  EXPECT_GE(r.last_metric, 0.0);
  EXPECT_LE(r.last_metric, 1.0);
  EXPECT_EQ(r.metric, "top1");

  std::ifstream in(root / "metrics.jsonl");
  int lines = 0, evals = 0;
  for (std::string line; std::getline(in, line); ++lines) evals += line.find("\"top1\"") != std::string::npos;
  EXPECT_EQ(lines, 4 + 2);  // loss every 10 steps, top1 at 20 and at the end
  EXPECT_EQ(evals, 2);
  EXPECT_TRUE(fs::exists(root / "best.safetensors"));
  EXPECT_TRUE(fs::exists(root / "config.yaml"));

  if (!vss::test::python_has({"safetensors", "torch"})) GTEST_SKIP() << "no python safetensors to check the file";
  std::string out;
  const int rc = vss::test::run_python(
      "import sys\n"
      "from safetensors import safe_open\n"
      "with safe_open(sys.argv[1], 'pt') as f:\n"
      "    keys = list(f.keys())\n"
      "    print(f.metadata()['step'], f.get_tensor('rng.cpu').dtype, sum(k.startswith('model.') for k in keys))\n",
      {(root / "last.safetensors").string()}, &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.substr(0, out.find(' ')), "40") << out;
  EXPECT_NE(out.find("torch.uint8"), std::string::npos) << out;
  vss::remove_tree(root);
}

TEST(Trainer, BadConfigIsOneLineNamingTheKey) {
  const fs::path root = vss::test::make_temp_dir("vss_train_bad");
  auto expect_error = [&](const std::vector<std::string>& overrides, const std::string& needle) {
    try {
      vss::train(vss::test::tiny_train_config(overrides), options_for(root / needle));
      ADD_FAILURE() << "no error for " << needle;
    } catch (const vss::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  expect_error({"train.batch_size=0"}, "batch_size");
  expect_error({"train.steps=abc"}, "steps");
  expect_error({"data.train.size=0"}, "size");
  expect_error({"task.type=keypoints"}, "keypoints");  // an unknown task (detection exists since issue 30)
  expect_error({"model.num_classes=5"}, "num_classes");
  expect_error({"train.stpes=3"}, "stpes");
  expect_error({"train.precision=fp16"}, "precision");  // fp16 needs CUDA
  expect_error({"train.precision=int8"}, "precision");
  vss::remove_tree(root);
}

// bf16 autocast on CPU: the run trains (finite losses) and autocast really changed the
// arithmetic (the weights differ from the float32 run's, but not wildly).
TEST(Trainer, Bf16AutocastOnCpuTrains) {
  const fs::path root = vss::test::make_temp_dir("vss_train_bf16");
  const auto fp32 = vss::train(vss::test::tiny_train_config(), options_for(root / "fp32"));
  const auto bf16 = vss::train(vss::test::tiny_train_config({"train.precision=bf16"}), options_for(root / "bf16"));
  EXPECT_TRUE(std::isfinite(bf16.last_loss));
  EXPECT_NEAR(bf16.first_loss, fp32.first_loss, 0.05 * fp32.first_loss);
  const auto a = vss::read_safetensors(root / "fp32" / "last.safetensors");
  const auto b = vss::read_safetensors(root / "bf16" / "last.safetensors");
  double max_diff = 0;
  for (size_t i = 0; i < a.tensors.size(); ++i)
    if (a.tensors[i].first.rfind("model.", 0) == 0)
      max_diff = std::max(max_diff, vss::test::max_abs_diff(a.tensors[i].second, b.tensors[i].second));
  EXPECT_GT(max_diff, 0.0);
  EXPECT_LT(max_diff, 0.5);
  vss::remove_tree(root);
}

}  // namespace

namespace {

// The top-1 of the weights stored under `prefix` ("model." or "ema.") in a checkpoint, by a
// fresh task on the same validation split.
double top1_of(const vss::Config& config, const fs::path& checkpoint, const std::string& prefix) {
  auto task = vss::make_task(config, c10::Device("cpu"));
  vss::NamedTensors weights;
  for (const auto& [name, t] : vss::read_safetensors(checkpoint).tensors)
    if (name.rfind(prefix, 0) == 0) weights.emplace_back(name.substr(prefix.size()), t);
  vss::load_state(task->model(), weights, checkpoint.string());
  return task->evaluate();
}

TEST(Trainer, EvalEmaScoresTheAveragedWeightsWithoutTouchingTraining) {
  const fs::path root = vss::test::make_temp_dir("vss_train_eval_ema");
  // Long enough to leave chance level, with an EMA that lags: the averaged weights then score
  // differently from the trained ones.
  const std::vector<std::string> common = {"ema.decay=0.9",          "train.steps=60",      "train.batch_size=16",
                                           "train.grad_accum=1",     "train.eval_every=20", "data.train.size=960",
                                           "data.val.size=200"};
  auto with = [&](const std::string& extra) {
    auto sets = common;
    sets.push_back(extra);
    return vss::test::tiny_train_config(sets);
  };
  const auto ema_run = vss::train(with("train.eval_ema=true"), options_for(root / "ema"));
  const auto plain_run = vss::train(with("train.eval_ema=false"), options_for(root / "plain"));

  // Evaluating the EMA swaps weights in and out: training itself is bit-for-bit unchanged.
  const auto a = vss::read_safetensors(root / "ema" / "last.safetensors");
  const auto b = vss::read_safetensors(root / "plain" / "last.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i)
    EXPECT_TRUE(torch::equal(a.tensors[i].second, b.tensors[i].second)) << a.tensors[i].first;

  const double by_ema = top1_of(with("train.eval_ema=true"), root / "ema" / "last.safetensors", "ema.");
  const double by_model = top1_of(with("train.eval_ema=true"), root / "ema" / "last.safetensors", "model.");
  ASSERT_NE(by_ema, by_model) << "the test needs EMA and trained weights that score differently";
  EXPECT_EQ(ema_run.last_metric, by_ema);
  EXPECT_EQ(plain_run.last_metric, by_model);
  // `best` is picked on the EMA's scores.
  std::ifstream in(root / "ema" / "metrics.jsonl");
  double best = -1;
  for (std::string line; std::getline(in, line);)
    if (auto at = line.find("\"top1\":"); at != std::string::npos) best = std::max(best, std::stod(line.substr(at + 7)));
  EXPECT_EQ(ema_run.best_metric, best);
  vss::remove_tree(root);
}

}  // namespace
