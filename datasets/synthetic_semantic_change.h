#pragma once
// Generated semantic change pairs (SECOND-like) for tests, CI and the demo: a land-cover map
// of SECOND's six classes (organic Voronoi patches of water, ground, low vegetation, tree,
// building blocks, playgrounds, each with its own colour and texture), and between the dates
// a few regions (rotated rectangles or ellipses) whose land cover changes into another class;
// pixels of a region that already had the new class are not change. Per-date illumination
// and sensor noise differ everywhere (not change). Labels follow SECOND: label1 / label2 hold
// the class of each changed pixel at each date, 0 where nothing changed.
// Pair i of a split is a pure function of (seed, i) (core/seed.h).
#include "datasets/semantic_change_pair.h"

#include <cstdint>

namespace vss::change {

struct SyntheticSemanticChangeOptions {
  int64_t height = 256, width = 256;
  uint64_t seed = 0;
  double regions = 1.0;       // factor on the number of changed regions (about 3 per 256² at 1; 0: none)
  double illumination = 1.0;  // strength of the per-date brightness / colour change (0: off)
  double noise = 3.0;         // std of the Gaussian sensor noise, 0..255 scale (0: off)
};

// Options are checked (error naming the bad one).
SemanticChangePair make_synthetic_semantic_change(const SyntheticSemanticChangeOptions& options, int64_t index);

}  // namespace vss::change
