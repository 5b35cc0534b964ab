#include "core/cli.h"

#include "core/error.h"
#include "core/interrupt.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace vss {

namespace {

// Parses all of `text` as T; a leading '+' is accepted (from_chars rejects it).
template <class T>
bool parse_number(const std::string& text, T* out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end) return false;
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  return ec == std::errc() && ptr == end;
}

// "-3" or "-.5" is a value, "-x" or "--x" is an option.
bool looks_like_option(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  const char c = arg[1];
  return !(c == '.' || (c >= '0' && c <= '9'));
}

}  // namespace

long long ArgParser::Option::as_int() const {
  long long v = 0;
  if (!parse_number(value, &v)) throw UsageError(name + ": expected an integer, got '" + value + "'");
  return v;
}

long long ArgParser::Option::as_int(long long lo, long long hi) const {
  const long long v = as_int();
  if (v < lo || v > hi)
    throw UsageError(name + ": expected " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + value);
  return v;
}

double ArgParser::Option::as_double() const {
  double v = 0;
  if (!parse_number(value, &v)) throw UsageError(name + ": expected a number, got '" + value + "'");
  return v;
}

ArgParser::ArgParser(std::string prog, std::string description)
    : prog_(std::move(prog)), description_(std::move(description)) {}

static ArgParser::Option& add_option(std::vector<std::unique_ptr<ArgParser::Option>>& options,
                                     ArgParser::Option opt) {
  // Misdeclared options are programming errors, caught by the first run of the tool.
  // "--name", or a one-letter "-x" as the tools users know have (-i / -o); -h is --help.
  const bool long_name = opt.name.size() >= 3 && opt.name.compare(0, 2, "--") == 0;
  const bool short_name = opt.name.size() == 2 && opt.name[0] == '-' && std::isalpha(static_cast<unsigned char>(opt.name[1]));
  if (!(long_name || short_name) || opt.name == "--help" || opt.name == "-h")
    throw Error("ArgParser: invalid option name '" + opt.name + "'");
  for (const auto& o : options)
    if (o->name == opt.name) throw Error("ArgParser: option '" + opt.name + "' declared twice");
  options.push_back(std::make_unique<ArgParser::Option>(std::move(opt)));
  return *options.back();
}

ArgParser::Option& ArgParser::option(const std::string& name, const std::string& metavar,
                                     const std::string& fallback, const std::string& help,
                                     bool required) {
  Option o;
  o.name = name;
  o.metavar = metavar;
  o.value = fallback;
  o.help = help;
  o.required = required;
  return add_option(options_, std::move(o));
}

ArgParser::Option& ArgParser::flag(const std::string& name, const std::string& help) {
  Option o;
  o.name = name;
  o.help = help;
  o.is_flag = true;
  return add_option(options_, std::move(o));
}

ArgParser::Option& ArgParser::multi(const std::string& name, const std::string& metavar,
                                    const std::string& help) {
  Option o;
  o.name = name;
  o.metavar = metavar;
  o.help = help;
  o.is_multi = true;
  return add_option(options_, std::move(o));
}

void ArgParser::positional(const std::string& metavar, const std::string& help, size_t min_count) {
  pos_allowed_ = true;
  pos_metavar_ = metavar;
  pos_help_ = help;
  pos_min_ = min_count;
}

int ArgParser::parse(const std::vector<std::string>& args) {
  auto usage_error = [&](const std::string& what) {
    std::fprintf(stderr, "%s: %s\ntry '%s --help'\n", prog_.c_str(), what.c_str(), prog_.c_str());
    std::fflush(stderr);
    return 2;
  };
  auto find = [&](const std::string& name) -> Option* {
    for (auto& o : options_)
      if (o->name == name) return o.get();
    return nullptr;
  };

  positionals_.clear();
  bool options_done = false;  // after "--" everything is positional
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || !looks_like_option(arg)) {
      if (!pos_allowed_) return usage_error("unexpected argument '" + arg + "'");
      positionals_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(help_text().c_str(), stdout);
      std::fflush(stdout);
      return 0;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    Option* opt = find(name);
    if (arg == "--version" && !opt) {
      std::printf("%s %s\n", prog_.c_str(), VSS_VERSION);
      std::fflush(stdout);
      return 0;
    }
    if (!opt) return usage_error("unknown option '" + name + "'");
    if (opt->is_flag) {
      if (eq != std::string::npos) return usage_error("option " + name + " takes no value");
      opt->seen = true;
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && !(args[i + 1].size() > 1 && args[i + 1].compare(0, 2, "--") == 0)) {
      value = args[++i];
    } else {
      return usage_error("option " + name + " needs a value (" + opt->metavar + ")");
    }
    opt->seen = true;
    opt->value = value;
    if (opt->is_multi) opt->values.push_back(value);
  }

  for (const auto& o : options_)
    if (o->required && !o->seen) return usage_error("missing required option " + o->name);
  if (positionals_.size() < pos_min_)
    return usage_error("expected at least " + std::to_string(pos_min_) + " " + pos_metavar_ +
                       " argument" + (pos_min_ == 1 ? "" : "s") + ", got " +
                       std::to_string(positionals_.size()));
  return -1;
}

std::string ArgParser::help_text() const {
  std::string usage = "usage: " + prog_ + " [options]";
  for (const auto& o : options_)
    if (o->required) usage += " " + o->name + " " + o->metavar;
  if (pos_allowed_) usage += " " + (pos_min_ > 0 ? pos_metavar_ : "[" + pos_metavar_ + "]") + "...";

  struct Row {
    std::string left, right;
  };
  std::vector<Row> rows;
  if (pos_allowed_) rows.push_back({pos_metavar_, pos_help_});
  for (const auto& o : options_) {
    Row r{o->name + (o->is_flag ? "" : " " + o->metavar), o->help};
    if (o->required) r.right += " (required)";
    else if (o->is_multi) r.right += " (repeatable)";
    else if (!o->is_flag && !o->value.empty()) r.right += " (default: " + o->value + ")";
    rows.push_back(std::move(r));
  }
  rows.push_back({"-h, --help", "show this help and exit"});
  const bool own_version = std::any_of(options_.begin(), options_.end(), [](const auto& o) { return o->name == "--version"; });
  if (!own_version) rows.push_back({"--version", "print the version and exit"});

  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.left.size());
  std::string text = usage + "\n";
  if (!description_.empty()) text += "\n" + description_ + "\n";
  text += "\narguments:\n";
  for (const auto& r : rows)
    text += "  " + r.left + std::string(width - r.left.size() + 2, ' ') + r.right + "\n";
  return text;
}

std::vector<long long> parse_int_list(const std::string& text, const std::string& what) {
  std::vector<long long> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t first = item.find_first_not_of(" \t");
    const size_t last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    long long v = 0;
    if (!parse_number(item, &v))
      throw UsageError(what + ": expected a comma-separated list of integers, got '" + text + "' (bad entry '" +
                       item + "')");
    if (v > kMaxListEntry || v < -kMaxListEntry)
      throw UsageError(what + ": entry " + item + " is out of range (at most " + std::to_string(kMaxListEntry) +
                       " in magnitude)");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run_subcommand(const std::vector<std::string>& args,
                   const std::vector<std::pair<std::string, AppBody>>& subcommands, AppBody fallback) {
  if (!args.empty())
    for (const auto& [name, body] : subcommands)
      if (args[0] == name) return body(std::vector<std::string>(args.begin() + 1, args.end()));
  return fallback(args);
}

int usage_error(const std::string& prog, const std::string& what) {
  std::fprintf(stderr, "%s: %s\ntry '%s --help'\n", prog.c_str(), what.c_str(), prog.c_str());
  return 2;
}

int run_app(const char* prog, int argc, char** argv,
            int (*body)(const std::vector<std::string>& args)) {
  exit_on_interrupt(prog);
  try {
    return body(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    return usage_error(prog, e.what());
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
  }
  return 1;
}

}  // namespace vss
