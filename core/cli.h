#pragma once
// A small command-line parser shared by the apps and vss-bench sub-commands.
//   ArgParser p("vss-bench scan", "Times the selective scan.");
//   auto& shape = p.option("--shape", "B,D,H,W,N", "2,192,56,56,1");
//   auto& json  = p.flag("--json", "print JSON instead of a table");
//   auto& sets  = p.multi("--set", "key=value", "override a config key (repeatable)");
//   if (int rc = p.parse(args); rc >= 0) return rc;   // --help printed (0) or usage error (2)
// A usage error prints one line "<prog>: <what>" plus "try --help" to stderr.
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vss {

class ArgParser {
 public:
  struct Option {
    std::string name, metavar, help, value;  // value: default until parsed
    bool is_flag = false, is_multi = false, required = false, seen = false;
    std::vector<std::string> values;  // for multi options
    operator bool() const { return seen; }
    const std::string& str() const { return value; }
    long long as_int() const;  // bad values are vss::UsageError naming the option
    long long as_int(long long lo, long long hi) const;  // and within lo..hi
    double as_double() const;
  };

  ArgParser(std::string prog, std::string description);
  Option& option(const std::string& name, const std::string& metavar, const std::string& fallback,
                 const std::string& help, bool required = false);
  Option& flag(const std::string& name, const std::string& help);
  Option& multi(const std::string& name, const std::string& metavar, const std::string& help);
  // Positional arguments are collected in order (e.g. input files).
  void positional(const std::string& metavar, const std::string& help, size_t min_count = 0);
  const std::vector<std::string>& positionals() const { return positionals_; }

  // Returns -1 to continue, or the exit code to return now (0 after --help or --version,
  // 2 on misuse). --help / -h and --version ("<prog> <VSS_VERSION>") are built in.
  int parse(const std::vector<std::string>& args);
  std::string help_text() const;

 private:
  std::string prog_, description_, pos_metavar_, pos_help_;
  size_t pos_min_ = 0;
  bool pos_allowed_ = false;
  std::vector<std::unique_ptr<Option>> options_;
  std::vector<std::string> positionals_;
};

// Prints "<prog>: <what>" and "try '<prog> --help'" on stderr; returns 2, the usage exit code.
int usage_error(const std::string& prog, const std::string& what);

// An app's main(): runs body(args) with the one-line error convention — vss::Error, torch's
// c10::Error (without its backtrace) and other std::exceptions print "<prog>: <message>" on
// stderr and give exit code 1, a vss::UsageError code 2; the body returns 0, or 2 for usage
// errors. Ctrl-C / SIGTERM print one line and exit 128 + signal (core/interrupt.h).
int run_app(const char* prog, int argc, char** argv,
            int (*body)(const std::vector<std::string>& args));

// An app with sub-commands ("vss-track eval ...", "vss-restore pack ..."): runs the entry named
// by args[0] with the remaining arguments, or `fallback` with all of them (the main command).
using AppBody = int (*)(const std::vector<std::string>& args);
int run_subcommand(const std::vector<std::string>& args,
                   const std::vector<std::pair<std::string, AppBody>>& subcommands, AppBody fallback);

// The largest magnitude of an entry of an integer list (shapes, resolutions): 2^20, OpenCV's
// largest image side. Larger values are typos whose products overflow tensor sizes, which
// LibTorch would report without naming the option.
inline constexpr long long kMaxListEntry = 1 << 20;

// Splits "2,192,56,56" into integers; error names `what` on a bad or too large entry.
std::vector<long long> parse_int_list(const std::string& text, const std::string& what);

}  // namespace vss
