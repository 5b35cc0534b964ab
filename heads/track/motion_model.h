#pragma once
// What the tracker asks of a motion model (the Kalman baseline or the Mamba predictor, chosen
// from YAML): a per-track state started from its first detection, one batched prediction per
// frame for every track of the association pool, and a correction by the matched detection.
#include "heads/track/track_box.h"

#include <memory>
#include <string>
#include <vector>

namespace vss::track {

class MotionState {
 public:
  virtual ~MotionState() = default;
  // The track's box: the prediction for this frame before its update, the estimate after it.
  virtual Tlwh box() const = 0;
};

class MotionModel {
 public:
  virtual ~MotionModel() = default;
  virtual std::unique_ptr<MotionState> initiate(const Tlwh& detection) = 0;
  // Advances every state (each created by this model) one frame, in one call, so a network
  // runs batched over the tracks. lost[i] says the track was not matched in the last frame.
  virtual void predict(const std::vector<MotionState*>& states, const std::vector<char>& lost) = 0;
  virtual void update(MotionState& state, const Tlwh& detection) = 0;
  virtual std::string name() const = 0;
};

}  // namespace vss::track
