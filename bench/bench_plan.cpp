// vss-bench plan: prints one scan plan, as JSON or as a step grid per direction, so any
// strategy's order can be inspected (specs/scans.md).
//   vss-bench plan --strategy s_shaped --size 4x6 --param scan_len=4 --param shift=2 --json
#include "bench/bench_command.h"
#include "core/cli.h"
#include "scans/plan_format.h"
#include "scans/strategy_registry.h"

#include <cstdio>
#include <regex>

namespace vss::bench {
namespace {

int run_plan(const std::vector<std::string>& args) {
  std::string names;
  for (const auto& n : scan_strategy_names()) names += (names.empty() ? "" : ", ") + n;
  ArgParser parser("vss-bench plan", "Prints the scan plan of a strategy for an HxW map.");
  auto& strategy = parser.option("--strategy", "NAME", "", "scan strategy: " + names, true);
  auto& size = parser.option("--size", "HxW", "", "map size, e.g. 14x14", true);
  auto& params = parser.multi("--param", "key=value",
                              "strategy parameter, value parsed as YAML, e.g. rates=[1,3]");
  auto& json = parser.flag("--json", "print {strategy, H, W, K, index} as JSON");
  if (int rc = parser.parse(args); rc >= 0) return rc;

  std::smatch m;
  const std::regex size_pattern("([0-9]{1,9})x([0-9]{1,9})");
  if (!std::regex_match(size.str(), m, size_pattern)) {
    std::fprintf(stderr, "vss-bench plan: --size must be HxW (e.g. 14x14), got '%s'\ntry 'vss-bench plan --help'\n",
                 size.str().c_str());
    return 2;
  }
  const auto scan = make_scan_strategy(strategy.str(), params.values);
  const ScanPlan& plan = cached_plan(*scan, std::stoll(m[1]), std::stoll(m[2]));
  const std::string text = json ? plan_to_json(scan->name(), plan) + "\n" : plan_to_grid(scan->name(), plan);
  std::fputs(text.c_str(), stdout);
  return 0;
}

const BenchCommand command("plan", "print a scan strategy's plan (JSON or step grid)", run_plan);

}  // namespace
}  // namespace vss::bench
