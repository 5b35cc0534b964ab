#pragma once
// Diagnostics on stderr, one line each, filtered by a process-wide level:
//   vss::log::set_program("vss-seg");                    // lines start "vss-seg: "
//   vss::log::set_quiet(quiet_flag);                     // --quiet: errors only, no progress
//   vss::log::info("loaded ", n, " tensors from ", path);
//   vss::log::warn("no GPU, running on CPU");            // "vss-seg: warning: ..."
// A progress bar on the terminal is cleared before a line and redrawn after it.
#include <cstdio>
#include <sstream>
#include <string>

namespace vss::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void set_level(Level level);  // messages below `level` are dropped (default Info)
Level level();
void set_quiet(bool quiet);   // true: Level::Error (progress bars also stay silent)
bool quiet();                 // level() above Info
void set_program(const std::string& name);  // "" (default): no prefix

// Writes one line "<program>: <level>: <message>" ("info" has no level tag) to stderr.
void write(Level level, const std::string& message);

template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream ss;
  (ss << ... << args);
  return ss.str();
}
template <class... Args> void debug(const Args&... args) { if (level() <= Level::Debug) write(Level::Debug, concat(args...)); }
template <class... Args> void info(const Args&... args) { if (level() <= Level::Info) write(Level::Info, concat(args...)); }
template <class... Args> void warn(const Args&... args) { if (level() <= Level::Warn) write(Level::Warn, concat(args...)); }
template <class... Args> void error(const Args&... args) { if (level() <= Level::Error) write(Level::Error, concat(args...)); }

namespace detail {
// The progress bar's line on `stream` (a terminal): log lines clear it and draw it again.
void show_status(std::FILE* stream, const std::string& line);
// Ends the status line: `keep` leaves it on screen (newline), otherwise it is erased.
void end_status(bool keep);
}  // namespace detail

}  // namespace vss::log
