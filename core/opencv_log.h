#pragma once
// OpenCV reports decoder and video-backend failures twice: as a return value or exception we turn
// into one vss::Error line, and as its own log lines on stderr. The latter are switched off so a
// bad file gives the user exactly one line.
namespace vss {

// Sets OpenCV's log level to silent (once per process; a no-op without OpenCV).
void silence_opencv_log();

}  // namespace vss
