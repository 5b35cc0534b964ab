#pragma once
// Tiled inference for images larger than memory allows (specs/conventions.md §2.3).
// Tiles of `tile`x`tile` input pixels start every `tile - overlap` pixels, the last one
// flush with the border (KAIR's `range(0, h - tile, stride) + [h - tile]`; an axis shorter
// than the tile is one tile). Overlapping outputs are combined by `blend`:
//   seam     each output pixel comes from the one tile it lies deepest inside (the overlap is
//            cut at its middle), so every pixel sees >= overlap/2 pixels of context on each
//            side inside the image: equal to untiled inference for any network whose
//            receptive field reaches <= overlap/2 pixels (convolutions), and close to it when
//            far context matters little.
//   average  KAIR / SwinIR: the tiles' outputs summed and divided by how many covered the
//            pixel (E / W).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

namespace vss::restore {

enum class TileBlend { kSeam, kAverage };
TileBlend tile_blend_from_string(const std::string& name);  // "seam" | "average", else vss::Error

struct TileOptions {
  int64_t tile = 0;     // input pixels per tile side; 0 = no tiling
  int64_t overlap = 16; // input pixels shared by neighbouring tiles (< tile)
  TileBlend blend = TileBlend::kSeam;
};

// Runs `net` ([B, C, h, w] -> [B, C', h·scale, w·scale]) on x [B, C, H, W] tile by tile and
// assembles [B, C', H·scale, W·scale] (float32, on x's device).
// `on_tile(done, total)` is called after each tile (progress). Errors: tile <= overlap,
// overlap < 0, a net output of the wrong size.
at::Tensor tiled_forward(const std::function<at::Tensor(const at::Tensor&)>& net, const at::Tensor& x, int64_t scale,
                         const TileOptions& options,
                         const std::function<void(int64_t, int64_t)>& on_tile = nullptr);

}  // namespace vss::restore
