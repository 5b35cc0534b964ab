#include "core/cli.h"
#include "core/error.h"

#include <gtest/gtest.h>

using vss::ArgParser;

namespace {

// Runs parse() capturing what it prints.
struct Parsed {
  int rc;
  std::string out, err;
};
Parsed run(ArgParser& p, const std::vector<std::string>& args) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int rc = p.parse(args);
  Parsed r{rc, "", ""};
  r.out = testing::internal::GetCapturedStdout();
  r.err = testing::internal::GetCapturedStderr();
  return r;
}

}  // namespace

TEST(cli, options_flags_multi_and_positionals) {
  ArgParser p("vss-x", "Does x.");
  auto& shape = p.option("--shape", "B,D", "2,3", "tensor shape");
  auto& name = p.option("--name", "NAME", "", "a name");
  auto& json = p.flag("--json", "print JSON");
  auto& quiet = p.flag("--quiet", "say nothing");
  auto& sets = p.multi("--set", "key=value", "override");
  p.positional("FILE", "input files");
  auto r = run(p, {"a.png", "--shape", "4,5", "--name=x=y", "--set", "a=1", "b.png", "--set=b.c=2",
                   "--json", "-", "--", "--not-an-option"});
  EXPECT_EQ(r.rc, -1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(shape.str(), "4,5");
  EXPECT_TRUE(shape);
  EXPECT_EQ(name.str(), "x=y");  // only the first '=' splits
  EXPECT_TRUE(json);
  EXPECT_FALSE(quiet);
  EXPECT_EQ(sets.values, (std::vector<std::string>{"a=1", "b.c=2"}));
  EXPECT_EQ(p.positionals(), (std::vector<std::string>{"a.png", "b.png", "-", "--not-an-option"}));
}

TEST(cli, defaults_stay_when_not_given) {
  ArgParser p("vss-x", "");
  auto& iters = p.option("--iters", "N", "10", "iterations");
  auto& sets = p.multi("--set", "k=v", "override");
  EXPECT_EQ(run(p, {}).rc, -1);
  EXPECT_FALSE(iters);
  EXPECT_EQ(iters.as_int(), 10);
  EXPECT_TRUE(sets.values.empty());
}

TEST(cli, negative_numbers_are_values) {
  ArgParser p("vss-x", "");
  auto& off = p.option("--offset", "N", "0", "offset");
  auto& scale = p.option("--scale", "X", "1", "scale");
  EXPECT_EQ(run(p, {"--offset", "-3", "--scale", "-.5"}).rc, -1);
  EXPECT_EQ(off.as_int(), -3);
  EXPECT_DOUBLE_EQ(scale.as_double(), -0.5);
}

TEST(cli, help_prints_to_stdout_and_returns_zero) {
  ArgParser p("vss-bench scan", "Times the selective scan.");
  p.option("--shape", "B,D,H,W,N", "2,192,56,56,1", "input shape");
  p.flag("--json", "print JSON");
  p.multi("--set", "key=value", "override a config key");
  p.option("--config", "FILE", "", "model config", true);
  for (const char* h : {"--help", "-h"}) {
    auto r = run(p, {"--json", h, "--bogus"});
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, p.help_text());
  }
  const std::string help = p.help_text();
  EXPECT_EQ(help.rfind("usage: vss-bench scan [options] --config FILE\n", 0), 0u) << help;
  EXPECT_NE(help.find("Times the selective scan."), std::string::npos);
  EXPECT_NE(help.find("--shape B,D,H,W,N"), std::string::npos);
  EXPECT_NE(help.find("(default: 2,192,56,56,1)"), std::string::npos);
  EXPECT_NE(help.find("(repeatable)"), std::string::npos);
  EXPECT_NE(help.find("(required)"), std::string::npos);
  EXPECT_NE(help.find("--help"), std::string::npos);
}

TEST(cli, usage_errors_print_two_lines_and_return_two) {
  struct Case {
    std::vector<std::string> args;
    std::string what;
  };
  const std::vector<Case> cases = {
      {{"--config", "c.yaml", "--bogus"}, "unknown option '--bogus'"},
      {{"--config", "c.yaml", "--bogus=1"}, "unknown option '--bogus'"},
      {{"--config", "c.yaml", "--iters"}, "option --iters needs a value (N)"},
      {{"--config", "c.yaml", "--iters", "--json"}, "option --iters needs a value (N)"},
      {{"--config", "c.yaml", "--json=1"}, "option --json takes no value"},
      {{"--iters", "3"}, "missing required option --config"},
      {{"--config", "c.yaml", "stray"}, "unexpected argument 'stray'"},
  };
  for (const auto& c : cases) {
    ArgParser p("vss-x", "");
    p.option("--config", "FILE", "", "config", true);
    p.option("--iters", "N", "1", "iterations");
    p.flag("--json", "json");
    auto r = run(p, c.args);
    EXPECT_EQ(r.rc, 2) << c.what;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "vss-x: " + c.what + "\ntry 'vss-x --help'\n");
  }
}

TEST(cli, too_few_positionals_is_a_usage_error) {
  ArgParser p("vss-x", "");
  p.positional("IMAGE", "images", 2);
  auto r = run(p, {"a.png"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "vss-x: expected at least 2 IMAGE arguments, got 1\ntry 'vss-x --help'\n");
  EXPECT_EQ(run(p, {"a.png", "b.png"}).rc, -1);
}

TEST(cli, bad_numbers_throw_naming_the_option) {
  ArgParser p("vss-x", "");
  auto& n = p.option("--iters", "N", "1", "iterations");
  auto& lr = p.option("--lr", "X", "1", "learning rate");
  ASSERT_EQ(run(p, {"--iters", "12x", "--lr", "fast"}).rc, -1);
  try {
    n.as_int();
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_STREQ(e.what(), "--iters: expected an integer, got '12x'");
  }
  try {
    lr.as_double();
    FAIL() << "no throw";
  } catch (const vss::Error& e) {
    EXPECT_STREQ(e.what(), "--lr: expected a number, got 'fast'");
  }
  ASSERT_EQ(run(p, {"--iters", "+7", "--lr", "1e-3"}).rc, -1);
  EXPECT_EQ(n.as_int(), 7);
  EXPECT_DOUBLE_EQ(lr.as_double(), 1e-3);
  ASSERT_EQ(run(p, {"--iters", "1.5", "--lr", ""}).rc, -1);
  EXPECT_THROW(n.as_int(), vss::UsageError);
  EXPECT_THROW(lr.as_double(), vss::UsageError);
}

TEST(cli, sizes_out_of_range_name_the_option) {
  ArgParser p("vss-x", "");
  auto& n = p.option("--size", "N", "1", "image side");
  ASSERT_EQ(run(p, {"--size", "99999999999"}).rc, -1);
  try {
    n.as_int(1, 4096);
    FAIL() << "no throw";
  } catch (const vss::UsageError& e) {
    EXPECT_STREQ(e.what(), "--size: expected 1..4096, got 99999999999");
  }
  ASSERT_EQ(run(p, {"--size", "4096"}).rc, -1);
  EXPECT_EQ(n.as_int(1, 4096), 4096);
  try {
    vss::parse_int_list("2,99999999999", "--res");
    FAIL() << "no throw";
  } catch (const vss::UsageError& e) {
    EXPECT_STREQ(e.what(), "--res: entry 99999999999 is out of range (at most 1048576 in magnitude)");
  }
  EXPECT_EQ(vss::parse_int_list("-1048576,1048576", "--res"), (std::vector<long long>{-1048576, 1048576}));
}

TEST(cli, parse_int_list_accepts_spaces_and_names_bad_entries) {
  EXPECT_EQ(vss::parse_int_list("2,192,56,56", "--shape"), (std::vector<long long>{2, 192, 56, 56}));
  EXPECT_EQ(vss::parse_int_list(" 1, -2 ,3", "--shape"), (std::vector<long long>{1, -2, 3}));
  EXPECT_EQ(vss::parse_int_list("7", "--shape"), (std::vector<long long>{7}));
  for (const char* bad : {"", "1,,2", "1,a", "1,2,", "1.5"}) {
    try {
      vss::parse_int_list(bad, "--shape");
      FAIL() << "no throw for '" << bad << "'";
    } catch (const vss::Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--shape: expected a comma-separated list of integers, got '" +
                                                std::string(bad) + "'",
                                            0),
                0u)
          << e.what();
    }
  }
}

TEST(cli, misdeclared_options_are_rejected) {
  ArgParser p("vss-x", "");
  p.flag("--json", "");
  EXPECT_THROW(p.flag("--json", ""), vss::Error);
  EXPECT_THROW(p.option("shape", "S", "", ""), vss::Error);
  EXPECT_THROW(p.flag("--help", ""), vss::Error);
  EXPECT_THROW(p.flag("-h", ""), vss::Error);
  EXPECT_THROW(p.option("-oo", "DIR", "", ""), vss::Error);
  EXPECT_THROW(p.option("-1", "N", "", ""), vss::Error);
}

TEST(cli, one_letter_options) {
  ArgParser p("vss-x", "");
  auto& out = p.option("-o", "DIR", "", "output folder", true);
  auto r = run(p, {"-o", "results"});
  EXPECT_EQ(r.rc, -1) << r.err;
  EXPECT_EQ(out.str(), "results");
  ArgParser q("vss-x", "");
  q.option("-o", "DIR", "", "output folder", true);
  r = run(q, {});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("missing required option -o"), std::string::npos) << r.err;
}

TEST(cli, version_is_built_in) {
  ArgParser p("vss-seg", "");
  auto r = run(p, {"--version"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, std::string("vss-seg ") + VSS_VERSION + "\n");
  EXPECT_EQ(r.err, "");
  EXPECT_NE(p.help_text().find("--version"), std::string::npos);
}
