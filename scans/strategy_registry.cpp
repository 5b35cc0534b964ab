#include "scans/strategy_registry.h"

#include "scans/atrous_window_scan.h"
#include "scans/cross_scan.h"
#include "scans/hilbert_scan.h"
#include "scans/local_window_scan.h"
#include "scans/s_shaped_scan.h"
#include "scans/zigzag_scan.h"

#include <nlohmann/json.hpp>

namespace vss {

namespace {
void add_builtin_scan_strategies(Registry<ScanStrategy>& registry) {
  registry.add("cross", &CrossScan::from_config);
  registry.add("s_shaped", &SShapedScan::from_config);
  registry.add("zigzag", &ZigzagScan::from_config);
  registry.add("local_window", &LocalWindowScan::from_config);
  registry.add("atrous_window", &AtrousWindowScan::from_config);
  registry.add("hilbert", &HilbertScan::from_config);
}
}  // namespace

Registry<ScanStrategy>& scan_strategy_registry() {
  static Registry<ScanStrategy> registry = [] {
    Registry<ScanStrategy> r("scan strategy");
    add_builtin_scan_strategies(r);
    return r;
  }();
  return registry;
}

std::shared_ptr<ScanStrategy> make_scan_strategy(const Config& node) {
  return scan_strategy_registry().create(node);
}

std::vector<std::string> scan_strategy_names() { return scan_strategy_registry().names(); }

std::shared_ptr<ScanStrategy> make_scan_strategy(const std::string& type,
                                                 const std::vector<std::string>& params) {
  // The name as a JSON string, which YAML reads verbatim whatever characters it holds.
  Config node = Config::parse("type: " + nlohmann::json(type).dump(), "command line");
  for (const auto& param : params) {
    const auto eq = param.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("scan strategy '" + type + "': parameter '" + param + "' is not key=value");
    if (param.substr(0, eq) == "type")
      throw Error("scan strategy '" + type + "': 'type' is the strategy name, not a parameter");
    node.apply_override(param);
  }
  return make_scan_strategy(node);
}

}  // namespace vss
