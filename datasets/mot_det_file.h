#pragma once
// Writing MOTChallenge detection files (det/det.txt, conventions.md §1.1): one line
// `{frame},-1,{x},{y},{w},{h},{score},-1,-1,-1` per box, what a detector hands the tracker
// (vss-detect --seq, vss-track detect). Read back with track::read_boxes(..., Detections).
#include "datasets/mot_challenge.h"

#include <filesystem>
#include <vector>

namespace vss::track {

// Sorted by frame (stable: a frame's boxes keep their order, by score from the detector);
// boxes to 0.01 px and scores to 1e-4, through an AtomicFile.
void write_detections(const std::filesystem::path& file, std::vector<Box> boxes);

}  // namespace vss::track
