#include "heads/track/track_box.h"

#include <algorithm>

namespace vss::track {

std::array<double, 4> tlwh_to_xyah(const Tlwh& b) { return {b.x + b.w / 2, b.y + b.h / 2, b.w / b.h, b.h}; }

Tlwh xyah_to_tlwh(const std::array<double, 4>& m) {
  const double w = m[2] * m[3];
  return {m[0] - w / 2, m[1] - m[3] / 2, w, m[3]};
}

std::array<double, 4> to_normalised_cxcywh(const Tlwh& b, double image_width, double image_height) {
  return {(b.x + b.w / 2) / image_width, (b.y + b.h / 2) / image_height, b.w / image_width, b.h / image_height};
}

Tlwh from_normalised_cxcywh(const std::array<double, 4>& s, double image_width, double image_height) {
  const double w = s[2] * image_width, h = s[3] * image_height;
  return {s[0] * image_width - w / 2, s[1] * image_height - h / 2, w, h};
}

double byte_iou(const Tlwh& a, const Tlwh& b) {
  const double iw = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x) + 1;
  if (iw <= 0) return 0;
  const double ih = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y) + 1;
  if (ih <= 0) return 0;
  const double union_area = (a.w + 1) * (a.h + 1) + (b.w + 1) * (b.h + 1) - iw * ih;
  return iw * ih / union_area;
}

}  // namespace vss::track
