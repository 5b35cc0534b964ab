#include "scans/hilbert_scan.h"

#include "core/config.h"
#include "scans/scan_orders.h"

#include <cstdlib>

namespace vss {

std::shared_ptr<ScanStrategy> HilbertScan::from_config(const Config& node) {
  node.check_keys({"type"});
  return std::make_shared<HilbertScan>();
}

namespace {

struct Vec {
  int64_t x, y;
  Vec operator+(Vec o) const { return {x + o.x, y + o.y}; }
  Vec operator-(Vec o) const { return {x - o.x, y - o.y}; }
  Vec operator-() const { return {-x, -y}; }
};

int64_t sign(int64_t v) { return (v > 0) - (v < 0); }
int64_t floor_half(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }  // Python's v // 2
Vec sign(Vec v) { return {sign(v.x), sign(v.y)}; }
Vec floor_half(Vec v) { return {floor_half(v.x), floor_half(v.y)}; }

// Appends the cells of the rectangle spanned by major vector a and minor vector b from
// corner p, as tokens y·W + x. Recursion depth is logarithmic in the rectangle's size.
void gilbert(Vec p, Vec a, Vec b, int64_t W, TokenOrder& out) {
  const int64_t w = std::abs(a.x + a.y), h = std::abs(b.x + b.y);
  const Vec da = sign(a), db = sign(b);
  if (h == 1 || w == 1) {
    const Vec step = h == 1 ? da : db;
    for (int64_t i = 0; i < (h == 1 ? w : h); ++i, p = p + step)
      out.push_back(static_cast<int32_t>(p.y * W + p.x));
    return;
  }
  Vec a2 = floor_half(a), b2 = floor_half(b);
  const int64_t w2 = std::abs(a2.x + a2.y), h2 = std::abs(b2.x + b2.y);
  if (2 * w > 3 * h) {
    if (w2 % 2 == 1 && w > 2) a2 = a2 + da;
    gilbert(p, a2, b, W, out);
    gilbert(p + a2, a - a2, b, W, out);
  } else {
    if (h2 % 2 == 1 && h > 2) b2 = b2 + db;
    gilbert(p, b2, a2, W, out);
    gilbert(p + b2, a, b - b2, W, out);
    gilbert(p + (a - da) + (b2 - db), -b2, -(a - a2), W, out);
  }
}

TokenOrder gilbert_order(Vec corner, Vec a, Vec b, int64_t H, int64_t W) {
  TokenOrder out;
  out.reserve(H * W);
  gilbert(corner, a, b, W, out);
  return out;
}

}  // namespace

ScanPlan HilbertScan::make_plan(int64_t H, int64_t W) const {
  check_map_size(name(), H, W);
  return plan_from_orders(H, W, {gilbert_order({0, 0}, {W, 0}, {0, H}, H, W),
                                 gilbert_order({W - 1, 0}, {0, H}, {-W, 0}, H, W),
                                 gilbert_order({W - 1, H - 1}, {-W, 0}, {0, -H}, H, W),
                                 gilbert_order({0, H - 1}, {0, -H}, {W, 0}, H, W)});
}

}  // namespace vss
