#pragma once
// Data-parallel training across processes through LibTorch's c10d: one process (rank) per
// GPU over NCCL, or per CPU process over gloo (the CI test of this code path). Ranks meet
// through a TCPStore at MASTER_ADDR:MASTER_PORT, set up from torchrun's environment.
// c10d stays inside distributed.cpp: this header only names what the trainer uses.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vss {

// torchrun's variables: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, and
// TORCHELASTIC_USE_AGENT_STORE=True when the launcher already hosts the store (otherwise
// rank 0 hosts it).
struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;
};

// nullopt when WORLD_SIZE is unset (one process, no c10d). A malformed or inconsistent
// variable is a vss::Error naming it.
std::optional<DistributedEnv> distributed_env_from_environment();

// True when this build has the backend for `device` (gloo for CPU, NCCL for CUDA).
bool distributed_backend_available(c10::Device device);

// An asynchronous collective; wait() blocks until it is done (CPU) or until the caller's
// current CUDA stream is ordered after it (NCCL). Errors of the collective come out of wait().
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

// One process group of `world_size` ranks on `device`: gloo when it is a CPU, NCCL when it
// is a GPU. The constructor blocks until every rank has joined (the store's timeout).
class ProcessGroup {
 public:
  ProcessGroup(const DistributedEnv& env, c10::Device device,
               std::chrono::milliseconds timeout = std::chrono::minutes(30));
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  c10::Device device() const { return device_; }

  // In place, sum over ranks; tensors on device().
  std::unique_ptr<PendingCollective> all_reduce_sum(at::Tensor& tensor);
  // In place, from `root` to every rank; waits.
  void broadcast(at::Tensor& tensor, int root);
  void barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_, size_;
  c10::Device device_;
};

// The rendezvous store a launcher hosts for the ranks it starts (so no rank races for the
// port): listens on 127.0.0.1, on a free port the system picks.
class StoreServer {
 public:
  explicit StoreServer(int world_size);
  ~StoreServer();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vss
