#pragma once
// The `type:` registry of scan strategies (built-ins: cross, s_shaped, zigzag, local_window,
// atrous_window, hilbert), and building one from a name plus `key=value` strings.
#include "core/registry.h"
#include "scans/scan_strategy.h"

#include <string>
#include <vector>

namespace vss {

// The registry, with the built-in strategies already added; add your own with `add`.
Registry<ScanStrategy>& scan_strategy_registry();

// `type` plus parameters "key=value", each value parsed as YAML ("rates=[1,3]",
// "directions=[w3,h_flip]", "pad=true"), e.g. from `vss-bench plan --param`.
std::shared_ptr<ScanStrategy> make_scan_strategy(const std::string& type,
                                                 const std::vector<std::string>& params);

}  // namespace vss
