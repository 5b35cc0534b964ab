// Data-parallel pieces with 2 ranks as 2 threads of this process over gloo (the rendezvous
// store on a free port): rank 0's parameters and buffers reach rank 1, and the reducer's
// averaged gradients equal the mean of the per-rank gradients that plain autograd computes
// (with accumulation over two micro-batches, several buckets launched during backward, and
// parameters unused on one rank or on both).
#include "core/error.h"
#include "engine/data_parallel.h"
#include "engine/distributed.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <exception>
#include <thread>

namespace {

struct Net : torch::nn::Module {
  explicit Net(int seed) {
    torch::manual_seed(seed);
    // Registered first, so they sit in the last bucket (buckets go in reverse order).
    never = register_parameter("never", torch::randn({2}));
    sometimes = register_parameter("sometimes", torch::randn({3}));
    a = register_parameter("a", torch::randn({5, 7}));
    b = register_parameter("b", torch::randn({7}));
    c = register_parameter("c", torch::randn({7, 3}));
    stat = register_buffer("stat", torch::randn({4}));
  }
  at::Tensor loss(const at::Tensor& x, bool use_sometimes) {
    at::Tensor h = torch::tanh(x.matmul(a) + b).matmul(c);
    if (use_sometimes) h = h * sometimes;
    return h.pow(2).mean();
  }
  at::Tensor never, sometimes, a, b, c, stat;
};

constexpr int kMicro = 2;

// Rank r's inputs of micro-batch m, and whether it uses `sometimes` (rank 0 only).
at::Tensor input(int rank, int micro) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(100 + 10 * rank + micro);
  return torch::randn({6, 5}, g);
}
bool uses_sometimes(int rank) { return rank == 0; }

struct RankOutcome {
  std::vector<at::Tensor> params_after_broadcast, buffers_after_broadcast;
  std::vector<std::vector<at::Tensor>> grads;  // per step, per parameter (undefined: none)
  size_t buckets = 0, early = 0;
  std::exception_ptr error;
};

void run_rank(int rank, int port, Net& net, RankOutcome& out) {
  try {
    vss::DistributedEnv env;
    env.rank = rank;
    env.world_size = 2;
    env.master_port = port;
    env.agent_store = true;
    vss::ProcessGroup group(env, c10::Device("cpu"), std::chrono::seconds(60));
    vss::broadcast_model_state(group, net);
    for (const auto& p : net.parameters()) out.params_after_broadcast.push_back(p.detach().clone());
    for (const auto& b : net.buffers()) out.buffers_after_broadcast.push_back(b.clone());
    vss::GradientReducer reducer(group, net, /*bucket_bytes=*/64);
    out.buckets = reducer.num_buckets();
    for (int step = 0; step < 2; ++step) {  // the second step checks that state was reset
      for (auto& p : net.parameters()) p.mutable_grad().reset();
      for (int m = 0; m < kMicro; ++m) {
        reducer.prepare(m + 1 == kMicro);
        net.loss(input(rank, m), uses_sometimes(rank)).backward();
      }
      reducer.finish();
      out.early = reducer.launched_during_backward();
      std::vector<at::Tensor> grads;
      for (const auto& p : net.parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
      out.grads.push_back(grads);
    }
  } catch (...) {
    out.error = std::current_exception();
  }
}

TEST(DataParallel, GlooReducerAveragesLikeOneProcess) {
  if (!vss::distributed_backend_available(c10::Device("cpu"))) GTEST_SKIP() << "this build has no gloo backend";
  Net net0(1), net1(2);  // different initial values: the broadcast must make them equal
  const vss::StoreServer store(2);
  RankOutcome out0, out1;
  std::thread t0(run_rank, 0, store.port(), std::ref(net0), std::ref(out0));
  std::thread t1(run_rank, 1, store.port(), std::ref(net1), std::ref(out1));
  t0.join();
  t1.join();
  if (out0.error) std::rethrow_exception(out0.error);
  if (out1.error) std::rethrow_exception(out1.error);

  // The oracle: rank 0's initial weights, each rank's summed micro-batch gradients by plain
  // autograd, averaged by hand.
  Net reference(1);
  std::vector<std::vector<at::Tensor>> per_rank;
  for (int rank = 0; rank < 2; ++rank) {
    for (auto& p : reference.parameters()) p.mutable_grad().reset();
    for (int m = 0; m < kMicro; ++m) reference.loss(input(rank, m), uses_sometimes(rank)).backward();
    std::vector<at::Tensor> grads;
    for (const auto& p : reference.parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
    per_rank.push_back(grads);
  }

  const auto names = reference.named_parameters().keys();
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(torch::equal(out0.params_after_broadcast[i], reference.parameters()[i])) << names[i];
    EXPECT_TRUE(torch::equal(out1.params_after_broadcast[i], reference.parameters()[i])) << names[i];
  }
  EXPECT_TRUE(torch::equal(out1.buffers_after_broadcast[0], reference.stat));

  for (int step = 0; step < 2; ++step)
    for (size_t i = 0; i < names.size(); ++i) {
      const at::Tensor& g0 = per_rank[0][i];
      const at::Tensor& g1 = per_rank[1][i];
      if (names[i] == "never") {
        EXPECT_FALSE(out0.grads[step][i].defined());  // no gradient anywhere: none, as in one process
        EXPECT_FALSE(out1.grads[step][i].defined());
        continue;
      }
      // (g0 + g1) / 2, a missing gradient counting as zeros; halving is exact in binary.
      at::Tensor sum = g0.defined() ? g0.clone() : torch::zeros_like(g1);
      if (g1.defined()) sum += g1;
      const at::Tensor mean = sum * 0.5;
      EXPECT_TRUE(torch::equal(out0.grads[step][i], mean)) << names[i] << " step " << step;
      EXPECT_TRUE(torch::equal(out1.grads[step][i], mean)) << names[i] << " step " << step;
    }
  // c, b, a each fill a 64-byte bucket; {sometimes, never} is the last one, which waits for
  // finish() because `never` gets no gradient.
  EXPECT_EQ(out0.buckets, 4u);
  EXPECT_EQ(out0.early, 3u);
  EXPECT_EQ(out1.early, 3u);
}

TEST(DataParallel, EnvironmentIsReadLikeTorchrun) {
  ::unsetenv("WORLD_SIZE");
  EXPECT_FALSE(vss::distributed_env_from_environment().has_value());
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("RANK", "3", 1);
  ::setenv("LOCAL_RANK", "1", 1);
  ::setenv("MASTER_ADDR", "10.0.0.2", 1);
  ::setenv("MASTER_PORT", "29511", 1);
  ::setenv("TORCHELASTIC_USE_AGENT_STORE", "True", 1);
  const auto env = vss::distributed_env_from_environment();
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->master_addr, "10.0.0.2");
  EXPECT_EQ(env->master_port, 29511);
  EXPECT_TRUE(env->agent_store);
  auto expect_error = [](const char* name, const char* value, const std::string& needle) {
    ::setenv(name, value, 1);
    try {
      vss::distributed_env_from_environment();
      ADD_FAILURE() << name << "=" << value << " accepted";
    } catch (const vss::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("RANK", "4", "RANK=4");
  ::setenv("RANK", "3", 1);
  expect_error("MASTER_PORT", "29x", "MASTER_PORT");
  for (const char* v : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE"})
    ::unsetenv(v);
}

}  // namespace
