// vss-bench loader: images/s of a training config's data loader on the CPU — what vss-train's
// loader threads do per batch (read + decode every image, the train transform, mixup), with
// no model — for 1, 2, 4, ... up to --threads loader threads (one intra-op thread each, as
// DataLoader workers), and the threads a GPU training rate needs (--gpu-rate, default 1677
// img/s: VMamba-T at 224², bf16, on one H100, bench/results/h100_2026-12-07c_train.md).
//   vss-bench loader --config configs/train/imagefolder_vmamba_tiny.yaml --batches 8 --threads 2
#include "bench/bench_command.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/batch_prefetcher.h"
#include "engine/batch_sampler.h"
#include "engine/task.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>

namespace vss::bench {
namespace {

// Images/s of `batches` batches made on `threads` loader threads.
double loader_rate(const Task& task, int64_t batch, int64_t batches, int64_t threads) {
  BatchSampler sampler(task.train_size(), batch, 0, 0, 1);
  std::mutex mutex;
  const auto start = std::chrono::steady_clock::now();
  BatchPrefetcher loader(
      [&](int64_t k) {
        std::vector<int64_t> indices;
        {
          std::lock_guard<std::mutex> lock(mutex);
          indices = sampler.indices(k);
        }
        return task.train_batch(indices, static_cast<uint64_t>(k));
      },
      0, batches, static_cast<size_t>(2 * threads), static_cast<size_t>(threads));
  int64_t images = 0;
  for (int64_t k = 0; k < batches; ++k) images += loader.next().inputs.size(0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(images) / seconds;
}

int run_loader_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench loader",
              "Times a training config's data loader on the CPU (decode + augment, no model): images/s per "
              "number of loader threads, and the threads a GPU training rate needs.");
  auto& config = p.option("--config", "FILE", "", "training config with `task:` and `data:`", true);
  auto& sets = p.multi("--set", "key=value", "override a config key");
  auto& batch = p.option("--batch", "N", "", "images per batch (default: train.batch_size)");
  auto& batches = p.option("--batches", "N", "8", "batches timed per thread count (after one warm-up batch)");
  auto& threads = p.option("--threads", "N", "2", "the most loader threads to time (1, 2, 4, ... up to N)");
  auto& gpu_rate = p.option("--gpu-rate", "IMG/S", "1677", "training rate to feed (images/s)");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const int64_t num_batches = batches.as_int(1, 1 << 20), max_threads = threads.as_int(1, 1024);
  const double target = gpu_rate.as_double();
  if (!(target > 0)) throw UsageError("--gpu-rate must be > 0");

  Config node = Config::load(config.str());
  for (const auto& s : sets.values) node.apply_override(s);
  if (!node.has("task")) throw Error(config.str() + ": a training config (with `task:` and `data:`) is needed");
  const int64_t B = batch ? batch.as_int(1, 1 << 16) : node["train"].get<int64_t>("batch_size");
  at::set_num_threads(1);  // each loader thread on one core, as vss-train's workers
  const std::shared_ptr<Task> task = make_task(node, c10::Device(c10::kCPU));
  (void)loader_rate(*task, B, 1, 1);  // warm-up: file cache, allocator

  nlohmann::json rows = nlohmann::json::array();
  double per_thread = 0;
  std::vector<int64_t> counts;
  for (int64_t t = 1; t < max_threads; t *= 2) counts.push_back(t);
  counts.push_back(max_threads);
  for (const int64_t t : counts) {
    const double rate = loader_rate(*task, B, num_batches, t);
    if (t == 1) per_thread = rate;
    rows.push_back({{"threads", t}, {"images_per_s", rate}});
    if (!json) std::printf("%-44s b%-4lld %3lld thread(s) %10.1f img/s\n", config.str().c_str(), static_cast<long long>(B),
                           static_cast<long long>(t), rate);
  }
  // One thread's rate scales with cores until they run out; the estimate assumes free cores.
  const auto needed = static_cast<int64_t>(std::ceil(target / per_thread));
  if (json) {
    std::printf("%s\n", nlohmann::json{{"config", config.str()}, {"overrides", sets.values}, {"batch", B},
                                       {"batches", num_batches}, {"rates", rows}, {"gpu_rate", target},
                                       {"threads_needed", needed}}
                            .dump()
                            .c_str());
  } else {
    std::printf("feeding %.0f img/s takes about %lld loader thread(s) at %.1f img/s each\n", target,
                static_cast<long long>(needed), per_thread);
  }
  return 0;
}

const BenchCommand kLoader("loader", "training data loader throughput (images/s, decode + augment) on the CPU",
                           run_loader_bench);

}  // namespace
}  // namespace vss::bench
