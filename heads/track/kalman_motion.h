#pragma once
// The Kalman baseline as a MotionModel, ByteTrack's STrack behaviour: the filter runs on
// (cx, cy, a, h); a lost track is predicted with its height velocity zeroed.
#include "heads/track/motion_model.h"

namespace vss::track {

std::unique_ptr<MotionModel> make_kalman_motion();

}  // namespace vss::track
