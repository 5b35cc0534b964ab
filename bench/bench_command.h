#pragma once
// vss-bench sub-commands. Each lives in its own bench_<name>.cpp and registers itself with a
// static BenchCommand (fine in an executable: every object file is linked).
#include <functional>
#include <string>
#include <vector>

namespace vss::bench {

// args: everything after the sub-command name. Returns the process exit code
// (0 ok, 1 runtime error, 2 usage error).
using CommandFn = std::function<int(const std::vector<std::string>& args)>;

struct BenchCommand {
  BenchCommand(std::string name, std::string summary, CommandFn run);
};

}  // namespace vss::bench
