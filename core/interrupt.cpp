#include "core/interrupt.h"

#include <atomic>
#include <csignal>
#include <cstring>
#include <string>
#include <unistd.h>

namespace vss {

namespace {

// Only what a signal handler may touch: lock-free atomics and fixed buffers written before use.
constexpr int kSlots = 64;
constexpr size_t kPathMax = 4096;
enum SlotState : int { kFree = 0, kFilling = 1, kInUse = 2 };
std::atomic<int> g_slot_state[kSlots];
char g_slot_path[kSlots][kPathMax];

std::atomic<int> g_deferrals{0};
volatile std::sig_atomic_t g_pending = 0;
char g_line[2][512];  // the message for SIGINT and for SIGTERM
size_t g_line_size[2] = {0, 0};

[[noreturn]] void exit_now(int signal) {
  const int which = signal == SIGINT ? 0 : 1;
  if (g_line_size[which] > 0) (void)!::write(STDERR_FILENO, g_line[which], g_line_size[which]);
  for (int i = 0; i < kSlots; ++i)
    if (g_slot_state[i].load() == kInUse) ::unlink(g_slot_path[i]);
  ::_exit(128 + signal);
}

extern "C" void on_interrupt(int signal) {
  if (g_deferrals.load() > 0) {
    g_pending = signal;
    return;
  }
  exit_now(signal);
}

void compose(int which, const std::string& text) {
  const size_t n = std::min(text.size(), sizeof g_line[which]);
  std::memcpy(g_line[which], text.data(), n);
  g_line_size[which] = n;
}

}  // namespace

void exit_on_interrupt(const char* program) {
  // On a terminal the line first clears a progress bar drawn in place.
  const std::string clear = ::isatty(STDERR_FILENO) ? "\r\033[K" : "";
  const std::string rest = "; the files written so far are complete, unfinished ones removed\n";
  compose(0, clear + program + ": interrupted (SIGINT)" + rest);
  compose(1, clear + program + ": terminated (SIGTERM)" + rest);
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

InterruptDeferral::InterruptDeferral() { ++g_deferrals; }

InterruptDeferral::~InterruptDeferral() {
  if (--g_deferrals == 0 && g_pending != 0) exit_now(g_pending);
}

TempFileRegistration::TempFileRegistration(const std::filesystem::path& path) {
  const std::string& text = path.native();
  if (text.size() >= kPathMax) return;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slot_state[i].compare_exchange_strong(expected, kFilling)) continue;
    std::memcpy(g_slot_path[i], text.c_str(), text.size() + 1);
    g_slot_state[i].store(kInUse);
    slot_ = i;
    return;
  }
}

TempFileRegistration::~TempFileRegistration() {
  if (slot_ >= 0) g_slot_state[slot_].store(kFree);
}

}  // namespace vss
