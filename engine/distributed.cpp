#include "engine/distributed.h"

#include "core/error.h"

#include <torch/torch.h>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
// torch's CMake defines USE_C10D_GLOO / USE_C10D_NCCL when the library has the backend; the
// backends' headers also need gloo's (Debian's libgloo-dev: the code itself is inside
// libtorch_cpu) and NCCL's (the CUDA toolkit's, or the nvidia-nccl wheel's).
#if defined(USE_C10D_GLOO) && __has_include(<gloo/context.h>)
#define VSS_WITH_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define VSS_WITH_NCCL 1
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

namespace vss {
namespace {

std::optional<std::string> env_text(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int env_int(const char* name, int fallback, int lowest) {
  const auto text = env_text(name);
  if (!text) return fallback;
  size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || value < lowest)
    throw Error(std::string("environment variable ") + name + "='" + *text + "': expected an integer >= " +
                std::to_string(lowest));
  return value;
}

bool is_loopback(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1"; }

}  // namespace

std::optional<DistributedEnv> distributed_env_from_environment() {
  if (!env_text("WORLD_SIZE")) return std::nullopt;
  DistributedEnv env;
  env.world_size = env_int("WORLD_SIZE", 1, 1);
  if (!env_text("RANK")) throw Error("environment variable WORLD_SIZE is set but RANK is not");
  env.rank = env_int("RANK", 0, 0);
  if (env.rank >= env.world_size)
    throw Error("environment variable RANK=" + std::to_string(env.rank) + " is not below WORLD_SIZE=" +
                std::to_string(env.world_size));
  env.local_rank = env_int("LOCAL_RANK", env.rank, 0);
  env.master_addr = env_text("MASTER_ADDR").value_or(env.master_addr);
  env.master_port = env_int("MASTER_PORT", env.master_port, 1);
  if (env.master_port > 65535)
    throw Error("environment variable MASTER_PORT=" + std::to_string(env.master_port) + " is not a port number");
  const auto agent = env_text("TORCHELASTIC_USE_AGENT_STORE");
  env.agent_store = agent && (*agent == "True" || *agent == "true" || *agent == "1");
  return env;
}

bool distributed_backend_available(c10::Device device) {
#if VSS_WITH_NCCL
  if (device.is_cuda()) return true;
#endif
#if VSS_WITH_GLOO
  if (device.is_cpu()) return true;
#endif
  return false;
}

namespace {

class C10dPending : public PendingCollective {
 public:
  explicit C10dPending(c10::intrusive_ptr<c10d::Work> work) : work_(std::move(work)) {}
  void wait() override { work_->wait(); }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
};

}  // namespace

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

ProcessGroup::ProcessGroup(const DistributedEnv& env, c10::Device device, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), rank_(env.rank), size_(env.world_size), device_(device) {
  if (!distributed_backend_available(device))
    throw Error(std::string("this build has no ") + (device.is_cuda() ? "NCCL" : "gloo") +
                " backend for data-parallel training on " + device.str() +
                (device.is_cuda() ? "" : " (gloo's headers were not found at build time: install libgloo-dev)"));
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(env.master_port);
  store_options.isServer = env.rank == 0 && !env.agent_store;
  store_options.waitWorkers = false;
  store_options.timeout = timeout;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(env.rank) + ": cannot reach the rendezvous store at " + env.master_addr + ":" +
                std::to_string(env.master_port) + " (MASTER_ADDR / MASTER_PORT): " + e.what());
  }
#if VSS_WITH_NCCL
  if (device.is_cuda()) {
    c10::cuda::set_device(device.index());
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    impl_->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, rank_, size_, options);
  }
#endif
#if VSS_WITH_GLOO
  if (device.is_cpu()) {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // One machine: the loopback interface; otherwise the interface the host name resolves to.
    options->devices.push_back(is_loopback(env.master_addr) ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                                            : c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank_, size_, options);
  }
#endif
}

ProcessGroup::~ProcessGroup() {
  // NCCL wants its communicators shut down before the process exits (else it warns and may
  // hang in the watchdog); gloo's shutdown does nothing.
  try {
    if (impl_->backend) impl_->backend->shutdown();
  } catch (const std::exception&) {
  }
}

std::unique_ptr<PendingCollective> ProcessGroup::all_reduce_sum(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  return std::make_unique<C10dPending>(impl_->backend->allreduce(tensors));
}

void ProcessGroup::broadcast(at::Tensor& tensor, int root) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  impl_->backend->broadcast(tensors, options)->wait();
}

void ProcessGroup::barrier() {
  // A barrier is an all-reduce of one element, which every backend orders like other collectives.
  at::Tensor one = torch::ones({1}, torch::TensorOptions().dtype(torch::kFloat).device(device_));
  all_reduce_sum(one)->wait();
}

struct StoreServer::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

StoreServer::StoreServer(int world_size) : impl_(std::make_unique<Impl>()) {
  c10d::TCPStoreOptions options;
  options.port = 0;  // the system picks a free port
  options.isServer = true;
  options.numWorkers = static_cast<size_t>(world_size);
  options.waitWorkers = false;
  impl_->store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
}

StoreServer::~StoreServer() = default;

int StoreServer::port() const { return impl_->store->getPort(); }

}  // namespace vss
