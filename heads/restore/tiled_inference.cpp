#include "heads/restore/tiled_inference.h"

#include "core/error.h"

#include <torch/torch.h>

#include <vector>

namespace vss::restore {

namespace {

struct Span {
  int64_t start, end;       // the tile's input pixels [start, end)
  int64_t keep_start, keep_end;  // the output pixels (input units) this tile provides
};

// KAIR's tile starts on one axis, and what each tile keeps under `blend`.
std::vector<Span> spans(int64_t size, int64_t tile, int64_t overlap, TileBlend blend) {
  if (tile >= size) return {{0, size, 0, size}};
  const int64_t stride = tile - overlap;
  std::vector<int64_t> starts;
  for (int64_t s = 0; s < size - tile; s += stride) starts.push_back(s);
  starts.push_back(size - tile);
  std::vector<Span> out;
  for (size_t i = 0; i < starts.size(); ++i) {
    Span sp{starts[i], starts[i] + tile, starts[i], starts[i] + tile};
    if (blend == TileBlend::kSeam) {
      // Cut each overlap [next start, this end) at its middle.
      sp.keep_start = i == 0 ? 0 : (starts[i] + starts[i - 1] + tile) / 2;
      sp.keep_end = i + 1 == starts.size() ? size : (starts[i + 1] + starts[i] + tile) / 2;
    }
    out.push_back(sp);
  }
  return out;
}

}  // namespace

TileBlend tile_blend_from_string(const std::string& name) {
  if (name == "seam") return TileBlend::kSeam;
  if (name == "average") return TileBlend::kAverage;
  throw Error("tile blend '" + name + "' is not known (known: seam, average)");
}

at::Tensor tiled_forward(const std::function<at::Tensor(const at::Tensor&)>& net, const at::Tensor& x, int64_t scale,
                         const TileOptions& o, const std::function<void(int64_t, int64_t)>& on_tile) {
  if (x.dim() != 4) throw Error("tiled inference: expected [B, C, H, W], got " + shape_to_string(x.sizes().vec()));
  if (o.overlap < 0) throw Error("tile overlap must be >= 0, got " + std::to_string(o.overlap));
  if (o.tile > 0 && o.tile <= o.overlap)
    throw Error("tile (" + std::to_string(o.tile) + ") must be larger than the tile overlap (" +
                std::to_string(o.overlap) + ")");
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t tile = o.tile > 0 ? o.tile : std::max(H, W);
  const auto rows = spans(H, tile, o.overlap, o.blend), cols = spans(W, tile, o.overlap, o.blend);
  const int64_t total = static_cast<int64_t>(rows.size() * cols.size());
  at::Tensor sum, count;
  int64_t done = 0;
  for (const Span& r : rows) {
    for (const Span& c : cols) {
      const at::Tensor out = net(x.slice(2, r.start, r.end).slice(3, c.start, c.end));
      const std::vector<int64_t> want{x.size(0), -1, (r.end - r.start) * scale, (c.end - c.start) * scale};
      if (out.dim() != 4 || out.size(0) != want[0] || out.size(2) != want[2] || out.size(3) != want[3])
        throw_shape_error("tiled inference: network output", want, out.sizes().vec());
      if (!sum.defined()) {
        sum = torch::zeros({x.size(0), out.size(1), H * scale, W * scale}, out.options().dtype(at::kFloat));
        count = torch::zeros({1, 1, H * scale, W * scale}, out.options().dtype(at::kFloat));
      }
      // The kept part, in output pixels, relative to the tile and to the image.
      const int64_t r0 = r.keep_start * scale, r1 = r.keep_end * scale;
      const int64_t c0 = c.keep_start * scale, c1 = c.keep_end * scale;
      const at::Tensor kept =
          out.slice(2, r0 - r.start * scale, r1 - r.start * scale).slice(3, c0 - c.start * scale, c1 - c.start * scale);
      sum.slice(2, r0, r1).slice(3, c0, c1).add_(kept.to(at::kFloat));
      count.slice(2, r0, r1).slice(3, c0, c1).add_(1.0);
      if (on_tile) on_tile(++done, total);
    }
  }
  return sum / count;
}

}  // namespace vss::restore
