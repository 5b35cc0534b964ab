#pragma once
// A progress bar on stderr for long work (inference over a folder, training epochs):
//   vss::Progress bar(images.size(), "segment");
//   for (...) { ...; bar.advance(); }
//   bar.finish();   // or let the destructor do it
// On a terminal it redraws one line in place:
//   segment [=========>          ] 47/100  3.2 it/s  ETA 0:16
// When stderr is not a terminal, or logging is quiet, it prints nothing.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace vss {

class Progress {
 public:
  struct Options {
    std::string unit = "it";      // "img", "batch", ...
    std::FILE* stream = nullptr;  // nullptr: stderr
    int tty = -1;                 // -1: ask isatty(stream); 0/1 force (tests)
    double min_interval_s = 0.1;  // redraw at most this often (the last step is always drawn)
    int width = 30;               // bar cells
  };

  // total <= 0: unknown length (count and rate only, no bar or ETA).
  Progress(int64_t total, std::string label);
  Progress(int64_t total, std::string label, Options options);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);
  void update(int64_t done);  // absolute count
  void finish();              // final redraw and newline; later calls do nothing
  // Changes the text before the bar (training: "train loss 0.41 lr 3e-4"); drawn next update.
  void set_label(std::string label) { label_ = std::move(label); }
  bool enabled() const { return enabled_; }
  int64_t done() const { return done_; }

  // The line drawn for `done` of `total` after `elapsed_s` seconds (no control characters).
  static std::string render(const std::string& label, int64_t done, int64_t total, double elapsed_s,
                            const std::string& unit, int width);
  // "0:07", "12:34", "1:02:03"
  static std::string format_duration(double seconds);

 private:
  void draw(bool force);
  std::string label_;
  Options opt_;
  int64_t total_, done_ = 0;
  bool enabled_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace vss
