#pragma once
// Generated segmentation scenes: textured shapes of 4 classes on a textured background, for
// the bundled demo model, tests and `vss-segment make-data`. Classes: 0 background, 1 disc,
// 2 rectangle (rotated, any aspect), 3 triangle, 4 striped blob (a wobbly closed curve,
// always striped). Scene i is a pure function of (seed, i) and its size, so splits are
// reproducible and any scene can be made on any thread in any order.
//
// What makes it a task rather than colour thresholding:
// - the background is a smooth blend of two random colours, and in a third of the scenes it
//   carries faint stripes or checks of its own;
// - discs, rectangles and triangles prefer a texture (flat, checks, gradient: 70 % of the time) but
//   wear any other one too (dots, stripes: stripes alone do not mean "blob"), with random
//   colours and shading;
// - 1..max_objects objects of random size (10 %..28 % of the short side as radius) anywhere,
//   a little cut by the border at most, painted in order so later ones occlude earlier ones;
// - Gaussian pixel noise on everything.
// Texture periods scale with the object, so a model trained at 64x64 sees the same scenes at
// 128x128, only sharper.
#include "datasets/seg_dataset.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vss {

struct SyntheticScenesOptions {
  int64_t size = 1000;       // number of scenes
  int64_t height = 64, width = 64;
  uint64_t seed = 0;         // train / val / held-out splits use different seeds
  int64_t max_objects = 5;   // each scene has 1..max_objects objects
  double noise = 6.0;        // std of the Gaussian pixel noise, 0..255 scale
};

// One painted object, in pixel coordinates (pixel (x, y) covers [x, x+1) x [y, y+1); a pixel
// belongs to the shape when its centre (x + 0.5, y + 0.5) does):
//   disc:      |p - c| <= radius
//   rectangle: |u| <= half_w and |v| <= half_h, (u, v) = p - c rotated by -angle
//   triangle:  inside the triangle `vertices` (x0, y0, x1, y1, x2, y2), edges included
//   blob:      |p - c| <= radius * (1 + Σ_k amp_k sin(k·φ + phase_k)), k = 2, 3, 5,
//              φ = atan2(p_y - c_y, p_x - c_x); `harmonics` = (amp2, phase2, amp3, phase3, amp5, phase5)
struct SceneObject {
  int64_t cls = 1;
  double cx = 0, cy = 0, radius = 1, angle = 0;
  double half_w = 0, half_h = 0;
  std::array<double, 6> vertices{};
  std::array<double, 6> harmonics{};
  bool contains(double px, double py) const;
};

class SyntheticScenes : public SegDataset {
 public:
  static constexpr int64_t kNumClasses = 5;
  static const std::vector<std::string>& class_names();  // background, disc, rectangle, triangle, striped blob

  explicit SyntheticScenes(SyntheticScenesOptions options);
  int64_t size() const override { return opt_.size; }
  int64_t num_classes() const override { return kNumClasses; }
  // Image [3, H, W] uint8, label [H, W] int64, name "scene_<index>".
  SegSample sample(int64_t index) const override;
  // The objects of scene i in painting order (what sample() rasterises).
  std::vector<SceneObject> layout(int64_t index) const;
  const SyntheticScenesOptions& options() const { return opt_; }

 private:
  SyntheticScenesOptions opt_;
};

}  // namespace vss
