#pragma once
// Building blocks shared by the scan strategies: token orders as plain int32 vectors
// (fast to fill, no tensor indexing), and the step that turns K of them into a ScanPlan.
#include "scans/scan_plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vss {

using TokenOrder = std::vector<int32_t>;  // token id h·W + w per step, -1 = padding step

// Error naming the strategy and the size unless H, W >= 1 and H·W fits int32 token ids.
void check_map_size(const std::string& strategy, int64_t H, int64_t W);

TokenOrder row_major_order(int64_t H, int64_t W);     // VMamba cross k0
TokenOrder column_major_order(int64_t H, int64_t W);  // VMamba cross k1
TokenOrder reversed(TokenOrder order);
// The same path on the image rotated 180°: token p -> H·W-1-p (padding stays -1).
TokenOrder rotated_180(TokenOrder order, int64_t H, int64_t W);

// Windows of `window`×`window` tokens of the dilation-`rate` phase sub-grids (phases in
// row-major order, windows row-major per sub-grid, tokens row-major per window).
// rate 1 is LocalMamba's window scan; `pad` (rate 1 only) pads the map at the bottom/right
// to multiples of `window` and emits the padding cells as -1.
TokenOrder window_order(int64_t H, int64_t W, int64_t window, int64_t rate, bool pad);

// Stacks K orders of equal length into a plan (index [K, L] int32 on the CPU).
ScanPlan plan_from_orders(int64_t H, int64_t W, const std::vector<TokenOrder>& orders);

}  // namespace vss
