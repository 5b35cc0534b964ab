// Strategy parameters: canonical keys, validation errors, bad map sizes.
#include "core/error.h"
#include "scans/atrous_window_scan.h"
#include "scans/cross_scan.h"
#include "scans/hilbert_scan.h"
#include "scans/local_window_scan.h"
#include "scans/s_shaped_scan.h"
#include "scans/zigzag_scan.h"

#include <gtest/gtest.h>

#include <functional>

namespace vss {
namespace {

// Runs f, expects a vss::Error with a one-line message containing every fragment.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << fragments.front();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  }
}

TEST(StrategyParams, CanonicalKeysAndDirectionCounts) {
  EXPECT_EQ(CrossScan().params_key(), "");
  EXPECT_EQ(SShapedScan().params_key(), "scan_len=8,shift=0");
  EXPECT_EQ(SShapedScan(4, 2).params_key(), "scan_len=4,shift=2");
  EXPECT_EQ(LocalWindowScan().params_key(), "directions=[h,h_flip,w7,w7_flip],pad=false");
  EXPECT_EQ(LocalWindowScan({"w4", "v_flip"}, true).params_key(), "directions=[w4,v_flip],pad=true");
  EXPECT_EQ(AtrousWindowScan().params_key(), "window=4,rates=[1,2]");
  EXPECT_EQ(AtrousWindowScan(2, {1, 3, 5}).params_key(), "window=2,rates=[1,3,5]");
  EXPECT_EQ(CrossScan().num_directions(), 4);
  EXPECT_EQ(ZigzagScan().num_directions(), 4);
  EXPECT_EQ(HilbertScan().num_directions(), 4);
  EXPECT_EQ(SShapedScan().num_directions(), 4);
  EXPECT_EQ(LocalWindowScan({"h", "v", "w3"}).num_directions(), 3);
  EXPECT_EQ(AtrousWindowScan(4, {1, 2, 4}).num_directions(), 6);
}

TEST(StrategyParams, BadParametersAreOneLineErrors) {
  expect_error([] { SShapedScan(0); }, {"s_shaped", "scan_len", "0"});
  expect_error([] { SShapedScan(4, 4); }, {"s_shaped", "shift", "4"});
  expect_error([] { SShapedScan(4, -1); }, {"s_shaped", "shift", "-1"});
  expect_error([] { AtrousWindowScan(0); }, {"atrous_window", "window", "0"});
  expect_error([] { AtrousWindowScan(4, {}); }, {"atrous_window", "rates", "empty"});
  expect_error([] { AtrousWindowScan(4, {1, 0}); }, {"atrous_window", "rate", "0"});
  expect_error([] { LocalWindowScan(std::vector<std::string>{}); }, {"local_window", "directions", "empty"});
  for (std::string bad : {"x", "w", "w0", "h_flip_flip", "_flip", "w-3", "H", "w99999999999"})
    expect_error([&] { LocalWindowScan({"h", bad}); }, {"local_window", "'" + bad + "'"});
}

TEST(StrategyParams, BadMapSizesNameTheStrategyAndSize) {
  const std::vector<std::shared_ptr<ScanStrategy>> all{
      std::make_shared<CrossScan>(), std::make_shared<ZigzagScan>(), std::make_shared<HilbertScan>(),
      std::make_shared<SShapedScan>(), std::make_shared<LocalWindowScan>(), std::make_shared<AtrousWindowScan>()};
  for (const auto& s : all) {
    expect_error([&] { s->make_plan(0, 5); }, {s->name(), "0x5"});
    expect_error([&] { s->make_plan(3, -2); }, {s->name(), "3x-2"});
    expect_error([&] { s->make_plan(1 << 20, 1 << 20); }, {s->name(), "1048576x1048576"});
  }
  expect_error([] { LocalWindowScan({"h", "w9999999"}, true).make_plan(3, 3); }, {"local_window", "9999999"});
}

}  // namespace
}  // namespace vss
