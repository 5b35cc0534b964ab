#pragma once
// YAML configuration: a loaded tree (with `_base_:` inheritance and `--set` overrides
// applied) and typed access to it. Every error names the file, line and key path.
// A Config is a cheap handle to one node of the tree; copies share the tree.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace vss {

// Upper bounds of the integers that size a network (range checks where configs are read).
inline constexpr int64_t kMaxChannels = 1 << 16;  // widths, channel and class counts
inline constexpr int64_t kMaxDepth = 1 << 10;     // blocks per stage, layers

class Config {
 public:
  // Loads `file`, merging its `_base_:` files (a path or a list of paths, relative to the
  // including file; later bases and the file itself win; maps merge key by key, other
  // values replace). A cycle is an error naming the chain.
  static Config load(const std::filesystem::path& file);
  // Parses YAML text (tests, --set values); `origin` names it in errors.
  static Config parse(const std::string& yaml_text, const std::string& origin = "<string>");

  // "a.b.c=value": value is parsed as YAML ("[2,2,5,2]", "true", "1e-3", "name").
  // Intermediate maps are created; indexing into a list with a number ("a.0.b") works.
  void apply_override(const std::string& assignment);
  // Sets this map's child `key` (a null node becomes a map) to a copy of `value`, which keeps
  // the file and lines it came from: errors about a config built from parts of another (an
  // official constructor's keywords turned into our model node) point at the original.
  void set(const std::string& key, const Config& value);

  // `key` may be a dotted path with list indexes ("model.stages.0.depth"), as in overrides;
  // a literal key containing dots, if present, wins.
  bool has(const std::string& key) const;
  Config operator[](const std::string& key) const;  // error if missing
  Config at(size_t i) const;                        // list element; error if out of range
  size_t size() const;                              // list / map length, 0 for scalars
  bool is_map() const;
  bool is_list() const;
  bool is_scalar() const;
  bool is_null() const;
  std::vector<std::string> keys() const;  // map keys in file order

  // Typed reads of this node; a wrong type is an error naming the key path.
  template <class T> T as() const;
  // Typed reads of a child; `get` requires it, `get_or` falls back to `fallback`.
  template <class T> T get(const std::string& key) const { return (*this)[key].as<T>(); }
  template <class T> T get_or(const std::string& key, const T& fallback) const {
    return has(key) ? get<T>(key) : fallback;
  }

  // An integer child in lo..hi, `fallback` when absent; otherwise an error naming the key and
  // the range. For sizes: a width of 2e9 is a typo LibTorch would report only as a failed
  // allocation that names no key.
  int64_t get_int_in_or(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const;
  // A required list of integers, each in lo..hi.
  std::vector<int64_t> get_ints_in(const std::string& key, int64_t lo, int64_t hi) const;

  // Error unless every key of this map is in `allowed` ("unknown key 'depht' (known: ...)").
  void check_keys(const std::vector<std::string>& allowed) const;

  std::string key_path() const;  // "model.backbone.depths" ("" for the root)
  std::string file() const;      // file the node came from (after inheritance)
  int line() const;              // 1-based line in that file, 0 when unknown (overrides)
  [[noreturn]] void fail(const std::string& what) const;  // error at this node

  std::string dump() const;  // YAML text of this node (the resolved config)

  struct Tree;  // defined in config.cpp
 private:
  Config(std::shared_ptr<Tree> tree, std::shared_ptr<void> node, std::string key_path);
  std::shared_ptr<Tree> tree_;
  std::shared_ptr<void> node_;  // YAML::Node, kept opaque so yaml-cpp stays out of headers
  std::string key_path_;
};

// node[key] as exactly `channels` numbers (an input normalisation's mean / std); the error
// names the key and the count.
std::vector<double> read_per_channel(const Config& node, const std::string& key, int64_t channels);

// Supported `as<T>` types: bool, int64_t, int, double, float, std::string, and
// std::vector of int64_t, int, double, float, std::string. Scalars follow YAML 1.2 core:
// true/false, decimal/0x/0o integers, 1e-3 / .inf / .nan floats; quoted scalars are strings.
// A map may say `_delete_: true` to replace (not merge into) the map it overrides (mmseg).

}  // namespace vss
