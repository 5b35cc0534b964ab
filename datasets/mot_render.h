#pragma once
// Frames for generated MOT sequences (datasets/synthetic_mot.h), so detectors can be trained
// and the tracker run from pixels: each gt box becomes a textured, articulated person-like
// figure (head, torso, swinging arms and legs, clothes coloured and patterned per id) drawn far
// to near (lower bottom edge = nearer, the order synthetic_mot's visibility assumes), on a
// textured floor with static clutter (blobs, bars, person-sized posts that are not people) and
// per-frame camera shake of the background. Figures stay inside their gt boxes, so the gt is
// exact. A frame depends only on the sequence and the options.
#include "datasets/synthetic_mot.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>

namespace vss::track {

struct RenderOptions {
  uint64_t seed = 1;        // background, clutter and textures
  int64_t clutter = 12;     // static distractor shapes
  double camera_jitter = 2; // px, standard deviation of the background shake
  int jpeg_quality = 90;    // for .jpg frames
};

// [H, W, 3] uint8 RGB of frame `frame` (1-based).
at::Tensor render_frame(const SyntheticMotSequence& seq, int64_t frame, const RenderOptions& options);

// <dir>/<imDir>/000001<imExt> ... (6 digits, as MOT17), each written atomically: the sequence's
// imExt (write_sequence writes it to seqinfo.ini) picks the format, e.g. .jpg (MOT17's) or
// .ppm (readable by builds without OpenCV). An extension this build cannot write is an error
// before any frame is written.
void write_frames(const std::filesystem::path& dir, const SyntheticMotSequence& seq, const RenderOptions& options);

}  // namespace vss::track
