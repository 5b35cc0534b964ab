#pragma once
// Ctrl-C / SIGTERM during training: while an InterruptGuard lives, the signal handler only
// sets a flag; the training loop polls it at each step boundary, saves a checkpoint and
// stops. The previous handlers (an app's, core/interrupt.h) come back when the guard goes.
#include <csignal>

namespace vss {

class InterruptGuard {
 public:
  InterruptGuard();   // installs the handlers and clears the flag
  ~InterruptGuard();  // restores the previous handlers
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // The signal received since the guard was made (SIGINT / SIGTERM), 0 if none.
  static int requested();

 private:
  struct sigaction old_int_{}, old_term_{};
};

}  // namespace vss
