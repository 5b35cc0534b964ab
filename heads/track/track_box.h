#pragma once
// A box as the tracker sees it: (left, top, width, height) in pixels, the MOTChallenge
// layout, and the conversions the motion models need.
#include <array>

namespace vss::track {

struct Tlwh {
  double x = 0, y = 0, w = 0, h = 0;
};

// (centre x, centre y, aspect w/h, height): the Kalman filter's measurement.
std::array<double, 4> tlwh_to_xyah(const Tlwh& b);
Tlwh xyah_to_tlwh(const std::array<double, 4>& m);

// (cx/W, cy/H, w/W, h/H): the MTP's box state, normalised by the image size (heads.md §4).
std::array<double, 4> to_normalised_cxcywh(const Tlwh& b, double image_width, double image_height);
Tlwh from_normalised_cxcywh(const std::array<double, 4>& s, double image_width, double image_height);

// ByteTrack's IoU (cython_bbox.bbox_overlaps on x1y1x2y2 = tl, tl + wh): areas and
// overlaps count +1 pixel, unlike TrackEval's IoU (conventions.md §1.6).
double byte_iou(const Tlwh& a, const Tlwh& b);

}  // namespace vss::track
