#pragma once
// Generated bitemporal scenes for change detection tests, demos and the bundled weights, in
// the spirit of LEVIR-CD (building change at about 0.5 m / px): textured terrain (soil and
// vegetation, striped fields, roads) with buildings (gabled roofs, 6–24 px) that are built,
// demolished (bare ground left) or rebuilt (another footprint and roof) between the dates.
// The dates also differ in ways that are NOT change, as real pairs do, each of which can be
// turned off: global illumination (brightness, colour balance, gamma) and sun direction
// (shadows), a sub-pixel to 1–2 px misregistration of date B, sensor noise, seasonal
// vegetation / field colour and texture, and cars that moved on the roads.
// Pair i of a split is a pure function of (seed, i) (core/seed.h), so any pair can be made on
// any thread in any order.
#include "datasets/change_pair.h"

#include <cstdint>

namespace vss::change {

struct SyntheticChangeOptions {
  int64_t height = 256, width = 256;
  uint64_t seed = 0;
  double buildings = 1.0;  // density factor: about 6 buildings per 100 x 100 px at 1
  double change = 1.0;     // factor on the share of buildings that change (0: no change at all)
  // Distractors (0 / false turns one off):
  double illumination = 1.0;     // strength of the per-date brightness / colour / gamma and sun changes
  double misregistration = 1.5;  // date B is shifted by up to this many px along each axis
  double noise = 3.0;            // std of the Gaussian sensor noise, 0–255 scale
  double seasonal = 1.0;         // strength of the vegetation / field colour and texture change
  bool shadows = true;           // buildings cast shadows (direction per date)
  bool vehicles = true;          // cars on the roads, placed anew on each date
};

struct SyntheticChangeInfo {
  int64_t unchanged = 0, built = 0, demolished = 0, rebuilt = 0;
  double shift_x = 0, shift_y = 0;  // date B's misregistration, px
};

// The label (on date A's pixel grid) is 1 where a building was built or demolished, and on
// the union of the old and new footprints of a rebuilt one; shadows, bare ground and all the
// distractors are 0. Options are checked (error naming the bad one).
ChangePair make_synthetic_change(const SyntheticChangeOptions& options, int64_t index,
                                 SyntheticChangeInfo* info = nullptr);

}  // namespace vss::change
