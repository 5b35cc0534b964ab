#include "core/progress.h"

#include "core/log.h"

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace vss {

Progress::Progress(int64_t total, std::string label) : Progress(total, std::move(label), Options()) {}

Progress::Progress(int64_t total, std::string label, Options options)
    : label_(std::move(label)), opt_(std::move(options)), total_(total) {
  if (!opt_.stream) opt_.stream = stderr;
  const bool tty = opt_.tty >= 0 ? opt_.tty == 1 : ::isatty(::fileno(opt_.stream)) == 1;
  enabled_ = tty && !log::quiet();
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (enabled_) draw(true);
}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n) { update(done_ + n); }

void Progress::update(int64_t done) {
  done_ = done;
  if (enabled_ && !finished_) draw(total_ > 0 && done_ >= total_);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw(true);
  log::detail::end_status(true);
}

void Progress::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && std::chrono::duration<double>(now - last_draw_).count() < opt_.min_interval_s) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  log::detail::show_status(opt_.stream, render(label_, done_, total_, elapsed, opt_.unit, opt_.width));
}

std::string Progress::format_duration(double seconds) {
  const int64_t s = std::max<int64_t>(0, std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                  (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

std::string Progress::render(const std::string& label, int64_t done, int64_t total, double elapsed_s,
                             const std::string& unit, int width) {
  std::string line = label.empty() ? "" : label + " ";
  if (total > 0) {
    const double frac = std::clamp(double(done) / double(total), 0.0, 1.0);
    const int filled = int(frac * width);
    std::string bar(size_t(width), ' ');
    std::fill(bar.begin(), bar.begin() + filled, '=');
    if (filled < width && done > 0) bar[size_t(filled)] = '>';
    line += "[" + bar + "] ";
  }
  line += std::to_string(done);
  if (total > 0) {
    line += '/';
    line += std::to_string(total);
  }
  if (elapsed_s > 0 && done > 0) {
    const double rate = double(done) / elapsed_s;
    char buf[64];
    // Slow work reads better as seconds per item.
    if (rate >= 1) std::snprintf(buf, sizeof buf, "  %.*f %s/s", rate >= 100 ? 0 : 1, rate, unit.c_str());
    else std::snprintf(buf, sizeof buf, "  %.1f s/%s", 1 / rate, unit.c_str());
    line += buf;
    if (total > 0 && done < total) line += "  ETA " + format_duration(double(total - done) / rate);
  }
  if (total > 0 && done >= total) line += "  " + format_duration(elapsed_s);
  return line;
}

}  // namespace vss
