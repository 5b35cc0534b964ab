// Building strategies by YAML `type:` and by name + key=value strings.
#include "core/config.h"
#include "core/error.h"
#include "scans/strategy_registry.h"

#include <gtest/gtest.h>

namespace vss {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(StrategyRegistry, ListsTheBuiltIns) {
  EXPECT_EQ(scan_strategy_names(), (std::vector<std::string>{"atrous_window", "cross", "hilbert",
                                                             "local_window", "s_shaped", "zigzag"}));
}

TEST(StrategyRegistry, BuildsFromYamlWithDefaultsAndParameters) {
  auto s = make_scan_strategy(Config::parse("type: s_shaped\nscan_len: 4\nshift: 2\n"));
  EXPECT_EQ(s->name(), "s_shaped");
  EXPECT_EQ(s->params_key(), "scan_len=4,shift=2");
  EXPECT_EQ(make_scan_strategy(Config::parse("type: s_shaped"))->params_key(), "scan_len=8,shift=0");
  EXPECT_EQ(make_scan_strategy(Config::parse("type: local_window"))->params_key(),
            "directions=[h,h_flip,w7,w7_flip],pad=false");
  EXPECT_EQ(make_scan_strategy(Config::parse("type: local_window\ndirections: [w3, v_flip]\npad: true"))
                ->params_key(),
            "directions=[w3,v_flip],pad=true");
  EXPECT_EQ(make_scan_strategy(Config::parse("type: atrous_window\nrates: [1, 4]"))->params_key(),
            "window=4,rates=[1,4]");
  for (const std::string name : {"cross", "zigzag", "hilbert"})
    EXPECT_EQ(make_scan_strategy(Config::parse("type: " + name))->name(), name);
}

TEST(StrategyRegistry, BadYamlNamesFileLineAndKey) {
  const std::string unknown_type = error_of([] { make_scan_strategy(Config::parse("type: spiral", "scan.yaml")); });
  EXPECT_NE(unknown_type.find("scan.yaml:1"), std::string::npos) << unknown_type;
  EXPECT_NE(unknown_type.find("spiral"), std::string::npos) << unknown_type;
  EXPECT_NE(unknown_type.find("hilbert"), std::string::npos) << unknown_type;  // lists the known ones

  const std::string unknown_key =
      error_of([] { make_scan_strategy(Config::parse("type: s_shaped\nscan_lne: 4", "scan.yaml")); });
  EXPECT_NE(unknown_key.find("scan_lne"), std::string::npos) << unknown_key;

  const std::string no_params = error_of([] { make_scan_strategy(Config::parse("type: cross\nscan_len: 4")); });
  EXPECT_NE(no_params.find("scan_len"), std::string::npos) << no_params;

  const std::string bad_value =
      error_of([] { make_scan_strategy(Config::parse("type: s_shaped\nscan_len: 0", "scan.yaml")); });
  EXPECT_NE(bad_value.find("scan.yaml"), std::string::npos) << bad_value;
  EXPECT_NE(bad_value.find("scan_len must be >= 1"), std::string::npos) << bad_value;

  const std::string bad_type =
      error_of([] { make_scan_strategy(Config::parse("type: atrous_window\nrates: two", "scan.yaml")); });
  EXPECT_NE(bad_type.find("rates"), std::string::npos) << bad_type;

  const std::string bad_direction = error_of(
      [] { make_scan_strategy(Config::parse("type: local_window\ndirections: [h, diag]", "scan.yaml")); });
  EXPECT_NE(bad_direction.find("'diag'"), std::string::npos) << bad_direction;
  for (const auto& m : {unknown_type, unknown_key, no_params, bad_value, bad_type, bad_direction})
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(StrategyRegistry, BuildsFromNameAndKeyValueStrings) {
  EXPECT_EQ(make_scan_strategy("atrous_window", {"rates=[1,3]", "window=2"})->params_key(),
            "window=2,rates=[1,3]");
  EXPECT_EQ(make_scan_strategy("local_window", {"directions=[w3,h_flip]", "pad=true"})->params_key(),
            "directions=[w3,h_flip],pad=true");
  EXPECT_EQ(make_scan_strategy("cross", {})->name(), "cross");
  EXPECT_NE(error_of([] { make_scan_strategy("s_shaped", {"scan_len"}); }).find("key=value"), std::string::npos);
  EXPECT_NE(error_of([] { make_scan_strategy("s_shaped", {"=3"}); }).find("key=value"), std::string::npos);
  EXPECT_NE(error_of([] { make_scan_strategy("s_shaped", {"type=cross"}); }).find("type"), std::string::npos);
  EXPECT_NE(error_of([] { make_scan_strategy("s_shaped", {"depth=3"}); }).find("depth"), std::string::npos);
  EXPECT_NE(error_of([] { make_scan_strategy("snake", {}); }).find("snake"), std::string::npos);
}

}  // namespace
}  // namespace vss
