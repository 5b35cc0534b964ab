// The CPU emulator's scheduler: a block's threads as fibers on one OS thread, switched at
// barriers and warp collectives (see cuda_emulation.h for the model and what it catches).
#include "tests/emulation/cuda_emulation.h"

#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

// Saves the callee-saved registers and the FP control words on the running stack, stores its
// stack pointer in *save and continues on the stack `load` (x86-64 System V). ucontext's
// swapcontext does the same plus a signal-mask system call each switch, which made it ~5x
// slower here.
extern "C" void vss_emu_switch(void** save, void* load);
asm(R"(
  .text
  .globl vss_emu_switch
  .type vss_emu_switch, @function
vss_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size vss_emu_switch, .-vss_emu_switch
)");

namespace vss_emu {

ThreadState* current = nullptr;
uint3 block_idx;
int64_t launches = 0;
dim3 block_dim, grid_dim;

namespace {

enum class Waiting { no, barrier, warp };

struct Fiber {
  ThreadState state;
  void* stack_pointer = nullptr;  // where vss_emu_switch left it
  bool done = false;
  Waiting waiting = Waiting::no;
  int64_t warp_ops = 0;  // warp collectives this thread has entered
};

struct Block {
  const char* kernel = nullptr;
  const std::function<void()>* body = nullptr;
  std::vector<Fiber> fibers;
  std::vector<uint64_t> warp_slots;  // [warps][2][32]: collective k of a warp uses half k % 2
  std::vector<unsigned char> shared;
  int live = 0, barrier_arrived = 0;
  int64_t barrier_generation = 0, progress = 0;
  std::exception_ptr error;
  void* scheduler = nullptr;  // the scheduler's stack pointer while a fiber runs
};

Block* block = nullptr;  // the block now running
constexpr size_t kStackBytes = 256 * 1024;
constexpr int kMaxThreads = 1024;

Fiber& me() { return block->fibers[current->linear]; }
void yield() { vss_emu_switch(&me().stack_pointer, block->scheduler); }

std::string where() {
  std::ostringstream s;
  s << block->kernel << " block (" << block_idx.x << "," << block_idx.y << "," << block_idx.z << ")";
  return s.str();
}

[[noreturn]] void fiber_main() {
  try {
    (*block->body)();
  } catch (...) {
    if (!block->error) block->error = std::current_exception();
  }
  me().done = true;
  --block->live;
  ++block->progress;
  // Exited threads count as arrived at a barrier, as on the hardware.
  if (block->barrier_arrived > 0 && block->barrier_arrived == block->live) {
    block->barrier_arrived = 0;
    ++block->barrier_generation;
  }
  void* unused;
  vss_emu_switch(&unused, block->scheduler);  // never resumed
  __builtin_unreachable();
}

// A fresh fiber's stack, laid out as vss_emu_switch leaves a stack it switched away from:
// FP control words, six registers, then fiber_main as the return address (16-byte aligned
// as after a call).
void* fresh_stack(char* base, size_t bytes) {
  auto* top = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(base + bytes) & ~uintptr_t{15});
  uint32_t control[2];
  asm volatile("stmxcsr %0" : "=m"(control[0]));
  asm volatile("fnstcw %0" : "=m"(control[1]));
  *--top = 0;  // fiber_main's own (never used) return address
  *--top = reinterpret_cast<uint64_t>(&fiber_main);
  for (int r = 0; r < 6; ++r) *--top = 0;
  --top;
  std::memcpy(top, control, sizeof control);
  return top;
}

// Fiber stacks, kept across launches so their pages are touched once.
char* stack_pool(size_t bytes) {
  static std::unique_ptr<char[]> pool;
  static size_t size = 0;
  if (bytes > size) {
    pool.reset(new char[bytes]);
    size = bytes;
  }
  return pool.get();
}

std::string deadlock_report() {
  std::ostringstream s;
  int at_barrier = 0, at_warp = 0, exited = 0;
  for (const Fiber& f : block->fibers) {
    if (f.done) ++exited;
    else if (f.waiting == Waiting::barrier) ++at_barrier;
    else if (f.waiting == Waiting::warp) ++at_warp;
  }
  s << "CUDA emulator: deadlock in " << where() << ": " << at_barrier << " threads wait at __syncthreads, "
    << at_warp << " at a warp collective, " << exited << " exited";
  return s.str();
}

void run_block(bool reverse) {
  Block& b = *block;
  const int n = static_cast<int>(b.fibers.size());
  for (;;) {
    const int64_t before = b.progress;
    for (int k = 0; k < n; ++k) {
      Fiber& f = b.fibers[reverse ? n - 1 - k : k];
      if (f.done) continue;
      current = &f.state;
      vss_emu_switch(&b.scheduler, f.stack_pointer);
      if (b.error) std::rethrow_exception(b.error);
    }
    if (b.live == 0) return;
    TORCH_CHECK(b.progress != before, deadlock_report());
  }
}

}  // namespace

void run_grid(const char* kernel, dim3 grid, dim3 threads, size_t dynamic_shared_bytes,
              const std::function<void()>& body) {
  static std::mutex one_launch_at_a_time;
  const std::lock_guard<std::mutex> lock(one_launch_at_a_time);
  const int64_t n = int64_t{threads.x} * threads.y * threads.z;
  TORCH_CHECK(n >= 1 && n <= kMaxThreads, "CUDA emulator: ", kernel, " launched with ", n,
              " threads a block (1 to 1024 allowed)");
  TORCH_CHECK(grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && grid.y <= 65535 && grid.z <= 65535,
              "CUDA emulator: ", kernel, " launched with grid (", grid.x, ",", grid.y, ",", grid.z, ")");
  TORCH_CHECK(dynamic_shared_bytes <= 227 * 1024, "CUDA emulator: ", kernel, " asks for ",
              dynamic_shared_bytes, " bytes of dynamic shared memory (227 KiB allowed)");
  ++launches;
  Block b;
  b.kernel = kernel;
  b.body = &body;
  b.fibers.resize(static_cast<size_t>(n));
  b.warp_slots.resize(static_cast<size_t>((n + 31) / 32) * 64);
  char* stacks = stack_pool(static_cast<size_t>(n) * kStackBytes);
  block = &b;
  block_dim = threads;
  grid_dim = grid;
  int64_t linear_block = 0;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x, ++linear_block) {
        block_idx = {x, y, z};
        b.live = static_cast<int>(n);
        b.barrier_arrived = 0;
        b.shared.assign(dynamic_shared_bytes, 0xFF);  // NaN floats: reads before writes show
        for (int i = 0; i < n; ++i) {
          Fiber& f = b.fibers[static_cast<size_t>(i)];
          f.state.linear = i;
          f.state.thread_idx = {static_cast<unsigned>(i % threads.x),
                                static_cast<unsigned>(i / threads.x % threads.y),
                                static_cast<unsigned>(i / (threads.x * threads.y))};
          f.done = false;
          f.waiting = Waiting::no;
          f.warp_ops = 0;
          f.stack_pointer = fresh_stack(stacks + static_cast<size_t>(i) * kStackBytes, kStackBytes);
        }
        try {
          run_block(linear_block % 2 == 1);
        } catch (...) {
          block = nullptr;
          current = nullptr;
          throw;
        }
      }
  block = nullptr;
  current = nullptr;
}

int64_t launch_count() { return launches; }

void* dynamic_shared_memory() { return block->shared.data(); }

void sync_block() {
  Block& b = *block;
  const int64_t generation = b.barrier_generation;
  ++b.progress;
  if (++b.barrier_arrived == b.live) {
    b.barrier_arrived = 0;
    ++b.barrier_generation;
    return;
  }
  me().waiting = Waiting::barrier;
  while (b.barrier_generation == generation) yield();
  me().waiting = Waiting::no;
}

const uint64_t* warp_exchange(unsigned mask, uint64_t value) {
  Block& b = *block;
  TORCH_CHECK(mask == 0xffffffffu, "CUDA emulator: ", where(), ": warp collectives over part of a warp (mask ",
              mask, ") are not emulated");
  Fiber& f = me();
  const int first = current->linear & ~31, lane = current->linear & 31;
  TORCH_CHECK(first + 32 <= static_cast<int>(b.fibers.size()), "CUDA emulator: ", where(),
              ": a full-warp collective in a warp of fewer than 32 threads");
  const int64_t op = f.warp_ops++;
  uint64_t* slots = &b.warp_slots[static_cast<size_t>(first / 32) * 64 + static_cast<size_t>(op % 2) * 32];
  slots[lane] = value;
  ++b.progress;
  f.waiting = Waiting::warp;
  for (;;) {
    bool all = true;
    for (int l = 0; l < 32 && all; ++l) {
      const Fiber& other = b.fibers[static_cast<size_t>(first + l)];
      TORCH_CHECK(!(other.done && other.warp_ops <= op), "CUDA emulator: ", where(), ": thread ",
                  current->linear, " waits at a warp collective for lane ", l, ", which has exited");
      all = other.warp_ops > op;
    }
    if (all) break;
    yield();
  }
  f.waiting = Waiting::no;
  return slots;
}

void sync_warp(unsigned mask) { warp_exchange(mask, 0); }

const cudaDeviceProp* device_properties() {
  static const cudaDeviceProp props = [] {
    cudaDeviceProp p;
    std::memset(&p, 0, sizeof p);
    std::strncpy(p.name, "CUDA emulator (H100-like)", sizeof p.name - 1);
    p.major = 9;
    p.minor = 0;
    p.multiProcessorCount = 132;
    p.warpSize = 32;
    p.maxThreadsPerBlock = 1024;
    p.maxThreadsPerMultiProcessor = 2048;
    p.regsPerMultiprocessor = 65536;
    p.sharedMemPerBlock = 48 * 1024;
    p.sharedMemPerBlockOptin = 227 * 1024;
    p.sharedMemPerMultiprocessor = 228 * 1024;
    return p;
  }();
  return &props;
}

cudaError_t get_device(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t device_get_attribute(int* value, cudaDeviceAttr attr, int) {
  TORCH_CHECK(attr == cudaDevAttrMultiProcessorCount, "CUDA emulator: device attribute ",
              static_cast<int>(attr), " is not emulated");
  *value = device_properties()->multiProcessorCount;
  return cudaSuccess;
}

cudaError_t occupancy_blocks(int* blocks, int threads, size_t shared_bytes) {
  const cudaDeviceProp& p = *device_properties();
  int by_threads = p.maxThreadsPerMultiProcessor / threads;
  int by_registers = p.regsPerMultiprocessor / (128 * threads);
  int by_shared = shared_bytes == 0 ? 32 : static_cast<int>(p.sharedMemPerMultiprocessor / (shared_bytes + 1024));
  *blocks = std::max(1, std::min({32, by_threads, by_registers, by_shared}));
  return cudaSuccess;
}

}  // namespace vss_emu
