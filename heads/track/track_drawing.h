#pragma once
// Draws a tracker's output on a frame, as the ByteTrack demo does: each id in its own colour
// (hues spread by the golden ratio, so neighbouring ids differ), its box and a trail of its
// last box centres.
#include "core/image_draw.h"
#include "heads/track/track_box.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <deque>
#include <map>
#include <utility>
#include <vector>

namespace vss::track {

Rgb id_colour(int64_t id);

class TrackDrawer {
 public:
  explicit TrackDrawer(size_t trail_length = 30) : trail_length_(trail_length) {}
  // Draws (id, box) pairs of this frame on `frame` ([H, W, 3] uint8, in place) and remembers
  // their centres for the trails; ids not seen this frame keep their trail but draw nothing.
  void draw(at::Tensor& frame, const std::vector<std::pair<int64_t, Tlwh>>& tracks);

 private:
  size_t trail_length_;
  std::map<int64_t, std::deque<std::pair<double, double>>> trails_;
};

}  // namespace vss::track
