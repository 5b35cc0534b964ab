// MOTChallenge det.txt writer (see mot_det_file.h).
#include "datasets/mot_det_file.h"

#include "core/atomic_file.h"

#include <algorithm>
#include <cstdio>

namespace vss::track {

void write_detections(const std::filesystem::path& file, std::vector<Box> boxes) {
  std::stable_sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) { return a.frame < b.frame; });
  AtomicFile out(file);
  char line[256];
  for (const auto& b : boxes) {
    std::snprintf(line, sizeof(line), "%lld,-1,%.2f,%.2f,%.2f,%.2f,%.4f,-1,-1,-1\n", static_cast<long long>(b.frame),
                  b.x, b.y, b.w, b.h, b.score);
    out.stream() << line;
  }
  out.commit();
}

}  // namespace vss::track
