#pragma once
// The Mamba motion predictor as the tracker's motion model, with MambaTrack's tracklet
// patching (heads.md §4): a track keeps its last history+1 boxes (normalised cx, cy, w, h);
// each frame the network predicts the next difference from the last `history` differences
// (fewer while the track is young; a track with one box does not move), batched over all
// tracks. A track that was predicted but not matched appends that prediction to its history
// as a pseudo-observation, so a lost track keeps moving autoregressively and can be re-matched
// under its old id. On the CPU the network runs through MtpCpuEngine (all tracks in one
// ragged call, with the weights as they are when the motion model is made); on a GPU through
// the module, once per history length.
#include "heads/track/motion_model.h"

#include <c10/core/Device.h>

namespace vss::track {

class MambaMotionPredictorImpl;

// `image_width` / `image_height` normalise boxes (seqinfo's imWidth / imHeight).
std::unique_ptr<MotionModel> make_mtp_motion(std::shared_ptr<MambaMotionPredictorImpl> model, double image_width,
                                             double image_height, c10::Device device = c10::Device("cpu"));

}  // namespace vss::track
