#pragma once
// Ctrl-C (SIGINT) or SIGTERM in an app: one line on stderr, the temporary files of unfinished
// outputs removed, exit code 128 + signal. run_app() installs this for every app.
//   { vss::InterruptDeferral hold;   // an image and its mask: both or neither
//     write_image(image_path, ...);
//     write_image(mask_path, ...); }  // a signal that came meanwhile takes effect here
// vss-train replaces the handlers while it trains (engine/interrupt.h): it saves a checkpoint
// at the next step instead, and gets these back afterwards.
#include <filesystem>

namespace vss {

// Installs the handlers; the line reads "<program>: interrupted (SIGINT); ...".
void exit_on_interrupt(const char* program);

// While one lives (they nest), a signal is held back; the last one to end acts on it.
class InterruptDeferral {
 public:
  InterruptDeferral();
  ~InterruptDeferral();
  InterruptDeferral(const InterruptDeferral&) = delete;
  InterruptDeferral& operator=(const InterruptDeferral&) = delete;
};

// A temporary file an exit on a signal removes (AtomicFile's, VideoWriter's), while registered.
// Holds up to 64 paths at once; beyond that a file is simply not removed.
class TempFileRegistration {
 public:
  explicit TempFileRegistration(const std::filesystem::path& path);
  ~TempFileRegistration();  // unregisters (the owner removes or renames the file itself)
  TempFileRegistration(const TempFileRegistration&) = delete;
  TempFileRegistration& operator=(const TempFileRegistration&) = delete;

 private:
  int slot_ = -1;
};

}  // namespace vss
