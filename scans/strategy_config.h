#pragma once
// Builds a strategy from its parsed YAML parameters so that a rejected value (the
// constructors validate) is reported at the YAML node, with file and line.
#include "core/config.h"
#include "core/error.h"
#include "scans/scan_strategy.h"

#include <memory>
#include <utility>

namespace vss {

template <class Strategy, class... Params>
std::shared_ptr<ScanStrategy> make_strategy_at(const Config& node, Params&&... params) {
  try {
    return std::make_shared<Strategy>(std::forward<Params>(params)...);
  } catch (const Error& e) {
    node.fail(e.what());
  }
}

}  // namespace vss
