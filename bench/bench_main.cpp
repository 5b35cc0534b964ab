// vss-bench: kernels, scan plans and models, timed on CPU or CUDA (see each sub-command).
#include "bench/bench_command.h"
#include "core/error.h"
#include "core/interrupt.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <map>

namespace vss::bench {

namespace {
struct Entry {
  std::string summary;
  CommandFn run;
};
std::map<std::string, Entry>& commands() {
  static std::map<std::string, Entry> table;
  return table;
}

int usage(FILE* to) {
  std::fprintf(to, "usage: vss-bench <command> [options]   (vss-bench <command> --help)\n\ncommands:\n");
  for (const auto& [name, e] : commands()) std::fprintf(to, "  %-12s %s\n", name.c_str(), e.summary.c_str());
  return to == stdout ? 0 : 2;
}
}  // namespace

BenchCommand::BenchCommand(std::string name, std::string summary, CommandFn run) {
  commands()[std::move(name)] = Entry{std::move(summary), std::move(run)};
}

}  // namespace vss::bench

int main(int argc, char** argv) {
  using namespace vss::bench;
  if (argc < 2) return usage(stderr);
  const std::string name = argv[1];
  if (name == "--help" || name == "-h") return usage(stdout);
  if (name == "--version") {
    std::printf("vss-bench %s\n", VSS_VERSION);
    return 0;
  }
  auto it = commands().find(name);
  if (it == commands().end()) {
    std::fprintf(stderr, "vss-bench: unknown command '%s'\n", name.c_str());
    return usage(stderr);
  }
  vss::exit_on_interrupt("vss-bench");  // Ctrl-C: one line and exit 130, as every app
  try {
    return it->second.run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const vss::UsageError& e) {
    std::fprintf(stderr, "vss-bench %s: %s\ntry 'vss-bench %s --help'\n", name.c_str(), e.what(), name.c_str());
    return 2;
  } catch (const vss::Error& e) {
    std::fprintf(stderr, "vss-bench %s: %s\n", name.c_str(), e.what());
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "vss-bench %s: %s\n", name.c_str(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vss-bench %s: %s\n", name.c_str(), e.what());
  }
  return 1;
}
