#include "core/log.h"

#include <atomic>
#include <mutex>

namespace vss::log {

namespace {

struct State {
  std::mutex mutex;  // one writer at a time, so lines and the status line never interleave
  std::atomic<Level> level{Level::Info};
  std::string program;
  std::FILE* status_stream = nullptr;  // non-null while a status line is on screen
  std::string status;
};

State& state() {
  static State s;
  return s;
}

const char* tag(Level level) {
  switch (level) {
    case Level::Debug: return "debug: ";
    case Level::Warn: return "warning: ";
    case Level::Error: return "error: ";
    default: return "";
  }
}

constexpr const char* kEraseLine = "\r\033[K";

}  // namespace

void set_level(Level level) { state().level = level; }
Level level() { return state().level; }
void set_quiet(bool quiet) { set_level(quiet ? Level::Error : Level::Info); }
bool quiet() { return level() > Level::Info; }

void set_program(const std::string& name) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().program = name;
}

void write(Level level, const std::string& message) {
  State& s = state();
  if (level < s.level || level == Level::Off) return;
  std::lock_guard<std::mutex> lock(s.mutex);
  const bool under_status = s.status_stream == stderr;
  std::string line = under_status ? kEraseLine : "";
  if (!s.program.empty()) line += s.program + ": ";
  line += tag(level) + message + "\n";
  if (under_status) line += s.status;
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

namespace detail {

void show_status(std::FILE* stream, const std::string& line) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.status_stream = stream;
  s.status = line;
  std::fputs((kEraseLine + line).c_str(), stream);
  std::fflush(stream);
}

void end_status(bool keep) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.status_stream) return;
  std::fputs(keep ? "\n" : kEraseLine, s.status_stream);
  std::fflush(s.status_stream);
  s.status_stream = nullptr;
  s.status.clear();
}

}  // namespace detail

}  // namespace vss::log
