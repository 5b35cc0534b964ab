// The CPU engine of the motion predictor against the network's own LibTorch forward (the
// reference, itself tested against a plain Python-torch forward), with every parameter
// perturbed so no weight keeps its structured initial value: odd widths (not multiples of the
// micro-kernel's 16 columns), N = 1, d_conv 1 and longer than the history, 1 to 3 layers,
// histories from 1 step up, batches from 0 to past one chunk per thread, ragged batches,
// inputs large enough to hit both branches of softplus and SiLU. Thread count must not change
// a single bit.
#include "core/error.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_cpu_engine.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace vss::test {
namespace {

using track::MambaMotionPredictor;
using track::MtpCpuEngine;
using track::MtpOptions;

MtpOptions options(int64_t d_model, int64_t d_state, int64_t d_conv, int64_t dt_rank, int64_t layers,
                   int64_t mlp_hidden, int64_t head_hidden) {
  MtpOptions o;
  o.mamba.d_model = d_model;
  o.mamba.d_state = d_state;
  o.mamba.d_conv = d_conv;
  o.mamba.dt_rank = dt_rank;
  o.num_layers = layers;
  o.mlp_hidden = mlp_hidden;
  o.head_hidden = head_hidden;
  return o;
}

MambaMotionPredictor perturbed(const MtpOptions& o, uint64_t seed) {
  torch::manual_seed(seed);
  MambaMotionPredictor model(o);
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.2);
  model->eval();
  return model;
}

// diffs [batch, length, 4]: every track the same length.
at::Tensor engine_forward(const MtpCpuEngine& engine, const at::Tensor& diffs) {
  at::Tensor next = torch::empty({diffs.size(0), 4});
  const std::vector<int64_t> lengths(diffs.size(0), diffs.size(1));
  engine.forward(diffs.data_ptr<float>(), lengths.data(), diffs.size(0), next.data_ptr<float>());
  return next;
}

void expect_matches(const MtpOptions& o, int64_t batch, int64_t length, double input_scale, const std::string& what) {
  MambaMotionPredictor model = perturbed(o, 11 + batch + length);
  const MtpCpuEngine engine(*model);
  const at::Tensor diffs = torch::randn({batch, length, 4}) * input_scale;
  at::Tensor expected;
  {
    torch::InferenceMode guard;
    expected = batch > 0 ? model->forward(diffs) : torch::empty({0, 4});
  }
  const at::Tensor got = engine_forward(engine, diffs);
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  if (batch == 0) return;
  ASSERT_TRUE(torch::isfinite(expected).all().item<bool>()) << what;
  ASSERT_TRUE(torch::isfinite(got).all().item<bool>()) << what;
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  const double err = (got - expected).abs().max().item<double>();
  EXPECT_LE(err, 2e-5 * scale) << what << ": max |engine - module| " << err << " at output scale " << scale;
}

TEST(MtpCpuEngine, MatchesModuleForward) {
  struct Case {
    MtpOptions o;
    const char* name;
  };
  const Case cases[] = {
      {options(16, 4, 4, 0, 2, 24, 8), "tiny"},
      {options(20, 1, 4, 0, 1, 30, 5), "N=1, odd widths"},
      {options(24, 16, 1, 3, 3, 40, 17), "d_conv 1, dt_rank 3, 3 layers"},
      {options(8, 3, 6, 2, 2, 8, 4), "d_conv longer than short histories"},
      {options(64, 16, 4, 0, 2, 128, 64), "the bundled mtp_synth architecture"},
  };
  for (const Case& c : cases)
    for (const int64_t length : {1, 2, 5, 10, 17})
      for (const int64_t batch : {1, 3, 50}) {
        const std::string what =
            std::string(c.name) + ", batch " + std::to_string(batch) + ", length " + std::to_string(length);
        expect_matches(c.o, batch, length, 1.0, what);
      }
}

TEST(MtpCpuEngine, RaggedBatchEqualsEachTrackAlone) {
  const MtpOptions o = options(20, 4, 4, 0, 2, 24, 8);
  MambaMotionPredictor model = perturbed(o, 6);
  const MtpCpuEngine engine(*model);
  const std::vector<int64_t> lengths = {1, 10, 3, 10, 2, 7, 10, 1, 5, 4, 10, 9, 6, 10, 8, 2, 3, 10, 10, 1};
  int64_t rows = 0;
  for (const int64_t l : lengths) rows += l;
  const at::Tensor diffs = torch::randn({rows, 4});
  at::Tensor next = torch::empty({static_cast<int64_t>(lengths.size()), 4});
  for (const int threads : {1, 3}) {
    const int saved = at::get_num_threads();
    at::set_num_threads(threads);
    engine.forward(diffs.data_ptr<float>(), lengths.data(), static_cast<int64_t>(lengths.size()), next.data_ptr<float>());
    at::set_num_threads(saved);
    int64_t row = 0;
    for (size_t b = 0; b < lengths.size(); ++b) {
      const at::Tensor track = diffs.narrow(0, row, lengths[b]).unsqueeze(0);
      row += lengths[b];
      torch::InferenceMode guard;
      const at::Tensor expected = model->forward(track)[0];
      const double scale = std::max(1.0, expected.abs().max().item<double>());
      EXPECT_LE((next[b] - expected).abs().max().item<double>(), 2e-5 * scale)
          << "track " << b << " (length " << lengths[b] << "), " << threads << " threads";
    }
  }
  const std::vector<int64_t> bad = {3, 0};
  EXPECT_THROW(engine.forward(diffs.data_ptr<float>(), bad.data(), 2, next.data_ptr<float>()), Error);
}

TEST(MtpCpuEngine, LargeInputsAndEmptyBatch) {
  const MtpOptions o = options(16, 4, 4, 0, 2, 24, 8);
  expect_matches(o, 7, 10, 8.0, "inputs x8 (softplus and SiLU saturate)");
  expect_matches(o, 0, 10, 1.0, "empty batch");
}

TEST(MtpCpuEngine, ThreadCountDoesNotChangeResults) {
  const MtpOptions o = options(20, 4, 4, 0, 2, 24, 8);
  const MambaMotionPredictor model = perturbed(o, 3);
  const MtpCpuEngine engine(*model);
  const at::Tensor diffs = torch::randn({53, 10, 4});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = engine_forward(engine, diffs);
  at::set_num_threads(4);
  const at::Tensor four = engine_forward(engine, diffs);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, four));
}

TEST(MtpCpuEngine, SnapshotIgnoresLaterWeightChanges) {
  const MtpOptions o = options(16, 4, 4, 0, 1, 24, 8);
  const MambaMotionPredictor model = perturbed(o, 4);
  const MtpCpuEngine engine(*model);
  const at::Tensor diffs = torch::randn({2, 6, 4});
  const at::Tensor before = engine_forward(engine, diffs);
  {
    torch::NoGradGuard no_grad;
    model->head_fc2->bias.add_(1.0);
  }
  EXPECT_TRUE(torch::equal(engine_forward(engine, diffs), before));
}

TEST(MtpCpuEngine, RejectsEmptyHistory) {
  const MambaMotionPredictor model = perturbed(options(16, 4, 4, 0, 1, 24, 8), 5);
  const MtpCpuEngine engine(*model);
  float diffs[4] = {}, next[4] = {};
  const int64_t lengths[1] = {0};
  try {
    engine.forward(diffs, lengths, 1, next);
    FAIL() << "length 0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("length 0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vss::test
