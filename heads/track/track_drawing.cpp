#include "heads/track/track_drawing.h"

#include <cmath>

namespace vss::track {

Rgb id_colour(int64_t id) {
  // HSV with hue = id·φ (mod 1), full saturation and value -> RGB.
  const double h = std::fmod(static_cast<double>(id) * 0.6180339887498949, 1.0) * 6.0;
  const double x = 1.0 - std::fabs(std::fmod(h, 2.0) - 1.0);
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(h)) {
    case 0: r = 1, g = x; break;
    case 1: r = x, g = 1; break;
    case 2: g = 1, b = x; break;
    case 3: g = x, b = 1; break;
    case 4: r = x, b = 1; break;
    default: r = 1, b = x; break;
  }
  auto byte = [](double v) { return static_cast<uint8_t>(std::lround(55 + 200 * v)); };
  return {byte(r), byte(g), byte(b)};
}

void TrackDrawer::draw(at::Tensor& frame, const std::vector<std::pair<int64_t, Tlwh>>& tracks) {
  for (const auto& [id, box] : tracks) {
    auto& trail = trails_[id];
    trail.emplace_back(box.x + box.w / 2, box.y + box.h / 2);
    if (trail.size() > trail_length_) trail.pop_front();
  }
  for (const auto& [id, box] : tracks) {
    const Rgb c = id_colour(id);
    for (const auto& [x, y] : trails_[id]) draw_disc(frame, x, y, 2.0, c);
    draw_box(frame, box.x, box.y, box.w, box.h, c, 2);
  }
}

}  // namespace vss::track
