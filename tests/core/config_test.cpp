#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

using vss::Config;
namespace fs = std::filesystem;

namespace {

// The message of the vss::Error thrown by f, or "" (a test failure) if none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const vss::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a vss::Error";
  return "";
}

class ConfigFiles : public testing::Test {
 protected:
  void SetUp() override { dir_ = vss::test::make_temp_dir("vss-config-test"); }
  void TearDown() override { vss::remove_tree(dir_); }
  // Writes `text` to dir/name and returns the path.
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
  std::string name(const std::string& rel) const { return (dir_ / rel).lexically_normal().string(); }
  fs::path dir_;
};

}  // namespace

TEST(config, typed_reads_of_scalars_and_lists) {
  const Config c = Config::parse(
      "flag: true\nno: False\ncount: 42\nneg: -7\nhex: 0x1F\nbig: 9000000000\n"
      "lr: 1e-3\nratio: .5\nwhole: 3\ninf: -.inf\nname: vmamba\nquoted: '12'\n"
      "depths: [2, 2, 9, 2]\nscales: [1, 0.5, 2.5e1]\nnames: [a, 'b', \"3\"]\nnothing: ~\n",
      "t.yaml");
  EXPECT_TRUE(c.get<bool>("flag"));
  EXPECT_FALSE(c.get<bool>("no"));
  EXPECT_EQ(c.get<int>("count"), 42);
  EXPECT_EQ(c.get<int64_t>("neg"), -7);
  EXPECT_EQ(c.get<int>("hex"), 31);
  EXPECT_EQ(c.get<int64_t>("big"), 9000000000LL);
  EXPECT_DOUBLE_EQ(c.get<double>("lr"), 1e-3);
  EXPECT_FLOAT_EQ(c.get<float>("ratio"), 0.5f);
  EXPECT_DOUBLE_EQ(c.get<double>("whole"), 3.0);
  EXPECT_TRUE(std::isinf(c.get<double>("inf")) && c.get<double>("inf") < 0);
  EXPECT_EQ(c.get<std::string>("name"), "vmamba");
  EXPECT_EQ(c.get<std::string>("quoted"), "12");
  EXPECT_EQ(c.get<std::vector<int64_t>>("depths"), (std::vector<int64_t>{2, 2, 9, 2}));
  EXPECT_EQ(c.get<std::vector<int>>("depths"), (std::vector<int>{2, 2, 9, 2}));
  EXPECT_EQ(c.get<std::vector<double>>("scales"), (std::vector<double>{1, 0.5, 25}));
  EXPECT_EQ(c.get<std::vector<std::string>>("names"), (std::vector<std::string>{"a", "b", "3"}));
  EXPECT_TRUE(c["nothing"].is_null());
  EXPECT_TRUE(c["depths"].is_list());
  EXPECT_EQ(c["depths"].size(), 4u);
  EXPECT_EQ(c["depths"].at(2).as<int>(), 9);
  EXPECT_EQ(c["depths"].at(2).key_path(), "depths.2");
  EXPECT_TRUE(c.is_map());
  EXPECT_TRUE(c["name"].is_scalar());
  EXPECT_EQ(c.get_or<int>("missing", 5), 5);
  EXPECT_EQ(c.get_or<int>("count", 5), 42);
}

TEST(config, wrong_types_name_file_line_and_key) {
  const Config c = Config::parse(
      "model:\n"                      // 1
      "  backbone:\n"                 // 2
      "    depths: abc\n"             // 3
      "    dims: [96, x, 384]\n"      // 4
      "    drop: fast\n"              // 5
      "    quoted: '3'\n"             // 6
      "    big: 3000000000\n"         // 7
      "    flag: yes\n"               // 8
      "    sub: {a: 1}\n"             // 9
      "    names:\n"                  // 10
      "      - a\n"                   // 11
      "      - [b]\n",                // 12
      "configs/x.yaml");
  const Config b = c["model"]["backbone"];
  EXPECT_EQ(error_of([&] { b.get<std::vector<int64_t>>("depths"); }),
            "configs/x.yaml:3: model.backbone.depths: expected a list of integers, got 'abc'");
  EXPECT_EQ(error_of([&] { b.get<std::vector<int64_t>>("dims"); }),
            "configs/x.yaml:4: model.backbone.dims: expected a list of integers, got 'x' at index 1");
  EXPECT_EQ(error_of([&] { b.get<double>("drop"); }),
            "configs/x.yaml:5: model.backbone.drop: expected a number, got 'fast'");
  EXPECT_EQ(error_of([&] { b.get<int>("quoted"); }),
            "configs/x.yaml:6: model.backbone.quoted: expected an integer (32-bit), got '3'");
  EXPECT_EQ(error_of([&] { b.get<int>("big"); }),
            "configs/x.yaml:7: model.backbone.big: expected an integer (32-bit), got '3000000000'");
  EXPECT_EQ(b.get<int64_t>("big"), 3000000000LL);
  EXPECT_EQ(error_of([&] { b.get<bool>("flag"); }),
            "configs/x.yaml:8: model.backbone.flag: expected a boolean (true/false), got 'yes'");
  EXPECT_EQ(error_of([&] { b.get<std::string>("sub"); }),
            "configs/x.yaml:9: model.backbone.sub: expected a string, got a map");
  EXPECT_EQ(error_of([&] { b.get<std::vector<std::string>>("names"); }),
            "configs/x.yaml:12: model.backbone.names: expected a list of strings, got a list at index 1");
  EXPECT_EQ(error_of([&] { b["missing"]; }), "configs/x.yaml:2: model.backbone: missing key 'missing'");
  EXPECT_EQ(error_of([&] { b["dims"].at(3); }),
            "configs/x.yaml:4: model.backbone.dims: index 3 out of range (list has 3 items)");
  EXPECT_EQ(error_of([&] { b["depths"]["x"]; }),
            "configs/x.yaml:3: model.backbone.depths: expected a map with key 'x', got 'abc'");
  EXPECT_EQ(error_of([&] { b["sub"].fail("needs more"); }), "configs/x.yaml:9: model.backbone.sub: needs more");
}

TEST(config, line_numbers_key_paths_and_dotted_access) {
  const Config c = Config::parse("# comment\nmodel:\n  type: vmamba\n  stages:\n    - depth: 2\n    - depth: 9\n",
                                 "m.yaml");
  EXPECT_EQ(c.key_path(), "");
  EXPECT_EQ(c.file(), "m.yaml");
  EXPECT_EQ(c["model"].line(), 2);
  EXPECT_EQ(c["model"]["type"].line(), 3);
  EXPECT_EQ(c["model"]["stages"].line(), 4);
  EXPECT_EQ(c["model"]["stages"].at(1).line(), 6);
  EXPECT_EQ(c["model.stages.1.depth"].as<int>(), 9);
  EXPECT_EQ(c["model.stages.1.depth"].key_path(), "model.stages.1.depth");
  EXPECT_EQ(c["model.stages.1.depth"].line(), 6);
  EXPECT_TRUE(c.has("model.stages.0.depth"));
  EXPECT_FALSE(c.has("model.stages.2.depth"));
  EXPECT_FALSE(c.has("model.type.x"));
  EXPECT_EQ(c["model"].keys(), (std::vector<std::string>{"type", "stages"}));
  const Config dotted = Config::parse("\"a.b\": 1\na: {b: 2}\n", "dots.yaml");
  EXPECT_EQ(dotted.get<int>("a.b"), 1);  // a literal key wins over the path
  EXPECT_EQ(dotted["a"].get<int>("b"), 2);
}

TEST(config, unknown_keys_are_reported_at_their_line) {
  const Config c = Config::parse("model:\n  backbone:\n    depths: [2]\n    dephts: [3]\n", "configs/v.yaml");
  c["model"]["backbone"].check_keys({"dims", "dephts", "depths"});
  EXPECT_EQ(error_of([&] { c["model.backbone"].check_keys({"depths", "dims", "drop_path"}); }),
            "configs/v.yaml:4: model.backbone: unknown key 'dephts' (known: depths, dims, drop_path)");
}

TEST(config, yaml_syntax_errors_and_duplicate_keys_are_one_line_with_file_and_line) {
  const std::string syntax = error_of([] { Config::parse("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml"); });
  EXPECT_EQ(syntax.rfind("bad.yaml:", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("invalid YAML"), std::string::npos) << syntax;
  EXPECT_EQ(syntax.find('\n'), std::string::npos) << syntax;
  EXPECT_EQ(error_of([] { Config::parse("a: 1\nb:\n  x: 1\n  x: 2\n", "dup.yaml"); }),
            "dup.yaml:4: b: duplicate key 'x'");
  const std::string tabs = error_of([] { Config::parse("a:\n  b: 1\n   c: 2\n", "indent.yaml"); });
  EXPECT_EQ(tabs.rfind("indent.yaml:3: invalid YAML", 0), 0u) << tabs;
}

TEST(config, set_copies_a_node_with_its_origin) {
  const Config source = Config::parse("a: 1\nlist: [1, 2]\nmap:\n  x: y\n", "source.yaml");
  Config c = Config::parse("model: ~\n", "target.yaml");
  Config model = c["model"];
  model.set("list", source["list"]);
  model.set("map", source["map"]);
  c.set("a", source["a"]);
  c.apply_override("model.map.x=z");  // the copy changes, the source does not
  EXPECT_EQ(c.get<std::vector<int64_t>>("model.list"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.get<std::string>("model.map.x"), "z");
  EXPECT_EQ(source.get<std::string>("map.x"), "y");
  EXPECT_EQ(c["model.list"].file(), "source.yaml");
  EXPECT_EQ(c["model.list"].line(), 2);
  EXPECT_EQ(error_of([&] { c["model.list"].as<int64_t>(); }).rfind("source.yaml:2: model.list:", 0), 0u);
  EXPECT_EQ(error_of([&] { c["a"].set("k", source["a"]); }), "source.yaml:1: a: cannot set key 'k' inside '1'");
}

TEST(config, overrides_set_create_and_index) {
  Config c = Config::parse("model:\n  depths: [2, 2, 9, 2]\n  stages:\n    - {dim: 96}\n    - {dim: 192}\n  name: a\n"
                           "  init: ~\n",
                           "o.yaml");
  c.apply_override("model.depths=[2,2,5,2]");
  c.apply_override("model.depths.3=7");
  c.apply_override("model.stages.1.dim=256");
  c.apply_override("model.name='0123'");
  c.apply_override("model.head.loss.weight=1e-3");  // intermediate maps are created
  c.apply_override("model.init.type=xavier");        // a null becomes a map
  c.apply_override("train.amp=true");
  c.apply_override("model.extra=");                  // empty value is null
  EXPECT_EQ(c.get<std::vector<int64_t>>("model.depths"), (std::vector<int64_t>{2, 2, 5, 7}));
  EXPECT_EQ(c.get<int>("model.stages.1.dim"), 256);
  EXPECT_EQ(c.get<int>("model.stages.0.dim"), 96);
  EXPECT_EQ(c.get<std::string>("model.name"), "0123");
  EXPECT_DOUBLE_EQ(c.get<double>("model.head.loss.weight"), 1e-3);
  EXPECT_EQ(c.get<std::string>("model.init.type"), "xavier");
  EXPECT_TRUE(c.get<bool>("train.amp"));
  EXPECT_TRUE(c["model.extra"].is_null());
  // An overridden node names the override and has no line.
  EXPECT_EQ(c["model.stages.1.dim"].file(), "--set model.stages.1.dim=256");
  EXPECT_EQ(c["model.stages.1.dim"].line(), 0);
  EXPECT_EQ(c["model.stages.0.dim"].line(), 4);
  c.apply_override("model.stages.0.dim=wide");
  EXPECT_EQ(error_of([&] { c.get<int>("model.stages.0.dim"); }),
            "--set model.stages.0.dim=wide: model.stages.0.dim: expected an integer (32-bit), got 'wide'");
  // Overrides on a sub-node are relative to it.
  Config model = c["model"];
  model.apply_override("name=b");
  EXPECT_EQ(c.get<std::string>("model.name"), "b");
}

TEST(config, bad_overrides_are_errors) {
  Config c = Config::parse("a:\n  list: [1, 2]\n  s: 3\n", "o.yaml");
  EXPECT_EQ(error_of([&] { c.apply_override("a.list.2=5"); }),
            "--set a.list.2=5: a.list: no list index '2' (list has 2 items)");
  EXPECT_EQ(error_of([&] { c.apply_override("a.list.x=5"); }),
            "--set a.list.x=5: a.list: no list index 'x' (list has 2 items)");
  EXPECT_EQ(error_of([&] { c.apply_override("a.s.t=5"); }), "--set a.s.t=5: a.s: cannot set key 't' inside '3'");
  EXPECT_EQ(error_of([&] { c.apply_override("a.s"); }), "--set a.s: expected key.path=value");
  EXPECT_EQ(error_of([&] { c.apply_override("=1"); }), "--set =1: expected key.path=value");
  EXPECT_EQ(error_of([&] { c.apply_override("a..s=1"); }), "--set a..s=1: empty key in 'a..s'");
  const std::string syntax = error_of([&] { c.apply_override("a.s=[1,2"); });
  EXPECT_EQ(syntax.rfind("--set a.s=[1,2:", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("invalid YAML"), std::string::npos) << syntax;
  EXPECT_EQ(c.get<int>("a.s"), 3);  // failed overrides change nothing
  // All of them are mistakes on the command line: usage errors (apps exit with 2).
  EXPECT_THROW(c.apply_override("a.s"), vss::UsageError);
  EXPECT_THROW(c.apply_override("a.s=[1,2"), vss::UsageError);
}

TEST(config, ranged_integer_reads_name_the_key_and_the_range) {
  const Config c = Config::parse("width: 2000000000\ndims: [8, 0]\nok: 7\n", "r.yaml");
  EXPECT_EQ(c.get_int_in_or("ok", 1, 1, 10), 7);
  EXPECT_EQ(c.get_int_in_or("absent", 4, 1, 10), 4);
  EXPECT_EQ(error_of([&] { c.get_int_in_or("width", 1, 1, vss::kMaxChannels); }),
            "r.yaml:1: width: must be in 1..65536, got 2000000000");
  EXPECT_EQ(error_of([&] { c.get_ints_in("dims", 1, vss::kMaxChannels); }), "r.yaml:2: dims: entries must be in 1..65536, got 0");
}

TEST(config, dump_round_trips) {
  Config c = Config::parse("model:\n  depths: [2, 2, 9, 2]\n  name: 'true'\n  lr: 1e-3\n  none: ~\n"
                           "  stages:\n    - {dim: 96, act: gelu}\n  empty: {}\n",
                           "d.yaml");
  const Config again = Config::parse(c.dump(), "dumped");
  EXPECT_EQ(again.get<std::vector<int64_t>>("model.depths"), (std::vector<int64_t>{2, 2, 9, 2}));
  EXPECT_EQ(again.get<std::string>("model.name"), "true");
  EXPECT_THROW(again.get<bool>("model.name"), vss::Error);  // still a string
  EXPECT_DOUBLE_EQ(again.get<double>("model.lr"), 1e-3);
  EXPECT_TRUE(again["model.none"].is_null());
  EXPECT_EQ(again.get<int>("model.stages.0.dim"), 96);
  EXPECT_TRUE(again["model.empty"].is_map());
  EXPECT_EQ(again.dump(), c.dump());
  EXPECT_EQ(c["model.depths"].dump(), "[2, 2, 9, 2]\n");
}

TEST_F(ConfigFiles, base_inheritance_merges_maps_and_replaces_values) {
  write("base/model.yaml",
        "model:\n"                          // 1
        "  type: vmamba\n"                  // 2
        "  depths: [2, 2, 9, 2]\n"          // 3
        "  head: {type: linear, dim: 768}\n"// 4
        "train: {lr: 0.1, epochs: 300}\n"); // 5
  write("base/runtime.yaml", "train:\n  epochs: 100\n  amp: true\nlog: {every: 10}\n");
  const fs::path top = write("exp/tiny.yaml",
                             "_base_: [../base/model.yaml, ../base/runtime.yaml]\n"  // 1
                             "model:\n"                                              // 2
                             "  depths: [1, 1]\n"                                    // 3
                             "  head: {dim: 384}\n"                                  // 4
                             "train: {lr: 0.01}\n");                                 // 5
  const Config c = Config::load(top);
  EXPECT_FALSE(c.has("_base_"));
  EXPECT_EQ(c.get<std::string>("model.type"), "vmamba");
  EXPECT_EQ(c.get<std::vector<int64_t>>("model.depths"), (std::vector<int64_t>{1, 1}));  // lists replace
  EXPECT_EQ(c.get<std::string>("model.head.type"), "linear");
  EXPECT_EQ(c.get<int>("model.head.dim"), 384);
  EXPECT_DOUBLE_EQ(c.get<double>("train.lr"), 0.01);
  EXPECT_EQ(c.get<int>("train.epochs"), 100);  // the later base wins over the earlier
  EXPECT_TRUE(c.get<bool>("train.amp"));
  EXPECT_EQ(c.get<int>("log.every"), 10);
  EXPECT_EQ(c.keys(), (std::vector<std::string>{"model", "train", "log"}));
  // Each node remembers where it came from.
  EXPECT_EQ(c["model.type"].file(), name("base/model.yaml"));
  EXPECT_EQ(c["model.type"].line(), 2);
  EXPECT_EQ(c["model.depths"].file(), name("exp/tiny.yaml"));
  EXPECT_EQ(c["model.depths"].line(), 3);
  EXPECT_EQ(c["train.epochs"].file(), name("base/runtime.yaml"));
  EXPECT_EQ(c["train.epochs"].line(), 2);
  EXPECT_EQ(c["model.head.type"].line(), 4);
  EXPECT_EQ(error_of([&] { c.get<int>("model.type"); }),
            name("base/model.yaml") + ":2: model.type: expected an integer (32-bit), got 'vmamba'");
  EXPECT_EQ(error_of([&] { c["train"].check_keys({"lr", "epochs"}); }),
            name("base/runtime.yaml") + ":3: train: unknown key 'amp' (known: lr, epochs)");
}

TEST_F(ConfigFiles, multi_level_bases_and_delete) {
  write("a.yaml", "x: 1\nm: {p: 1, q: 2}\nkeep: a\n");
  write("sub/b.yaml", "_base_: ../a.yaml\nx: 2\ny: 2\n");
  write("sub/deeper/c.yaml", "_base_: ../b.yaml\nx: 3\nm: {_delete_: true, r: 3}\nnew: {n: {_delete_: true, v: 1}}\n");
  const Config c = Config::load(dir_ / "sub/deeper/c.yaml");
  EXPECT_EQ(c.get<int>("x"), 3);
  EXPECT_EQ(c.get<int>("y"), 2);
  EXPECT_EQ(c.get<std::string>("keep"), "a");
  EXPECT_EQ(c["m"].keys(), (std::vector<std::string>{"r"}));  // _delete_ replaced the map
  EXPECT_EQ(c["new.n"].keys(), (std::vector<std::string>{"v"}));  // markers never survive a merge
  EXPECT_EQ(c["keep"].file(), name("a.yaml"));
  EXPECT_EQ(c["y"].file(), name("sub/b.yaml"));
  // A diamond (two bases sharing one) is not a cycle.
  write("d1.yaml", "_base_: a.yaml\nd1: 1\n");
  write("d2.yaml", "_base_: a.yaml\nd2: 1\nx: 5\n");
  const Config d = Config::load(write("top.yaml", "_base_: [d1.yaml, d2.yaml]\n"));
  EXPECT_EQ(d.get<int>("x"), 5);
  EXPECT_EQ(d.get<int>("d1"), 1);
}

TEST_F(ConfigFiles, base_cycles_are_errors_naming_the_chain) {
  write("a.yaml", "_base_: b.yaml\nx: 1\n");
  write("b.yaml", "_base_: [c.yaml]\n");
  write("c.yaml", "_base_: a.yaml\n");
  EXPECT_EQ(error_of([&] { Config::load(dir_ / "a.yaml"); }),
            name("c.yaml") + ": _base_: inheritance cycle: " + name("a.yaml") + " -> " + name("b.yaml") +
                " -> " + name("c.yaml") + " -> " + name("a.yaml"));
  write("self.yaml", "_base_: ./self.yaml\n");
  EXPECT_EQ(error_of([&] { Config::load(dir_ / "self.yaml"); }),
            name("self.yaml") + ": _base_: inheritance cycle: " + name("self.yaml") + " -> " + name("self.yaml"));
}

TEST_F(ConfigFiles, missing_files_bad_bases_and_syntax_errors_name_the_file) {
  write("top.yaml", "model: {a: 1}\n_base_:\n  - ok.yaml\n  - nope.yaml\n");
  write("ok.yaml", "b: 1\n");
  EXPECT_EQ(error_of([&] { Config::load(dir_ / "top.yaml"); }),
            name("top.yaml") + ":4: _base_: base file 'nope.yaml' not found (looked for " + name("nope.yaml") + ")");
  EXPECT_EQ(error_of([&] { Config::load(dir_ / "absent.yaml"); }),
            (dir_ / "absent.yaml").string() + ": cannot open config file");
  write("badbase.yaml", "_base_: {a: 1}\n");
  EXPECT_EQ(error_of([&] { Config::load(dir_ / "badbase.yaml"); }),
            name("badbase.yaml") + ":1: _base_: expected a file name or a list of file names, got a map");
  write("list.yaml", "- 1\n- 2\n");
  EXPECT_EQ(error_of([&] { Config::load(dir_ / "list.yaml"); }),
            name("list.yaml") + ":1: expected a map at the top level, got a list");
  write("broken.yaml", "a: 1\nb: {c: 2\n");
  write("uses_broken.yaml", "_base_: broken.yaml\n");
  const std::string e = error_of([&] { Config::load(dir_ / "uses_broken.yaml"); });
  EXPECT_EQ(e.rfind(name("broken.yaml") + ":", 0), 0u) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
  write("empty.yaml", "");
  EXPECT_EQ(Config::load(dir_ / "empty.yaml").size(), 0u);
}
