#include "core/config.h"

#include "core/error.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace vss {

namespace fs = std::filesystem;

// Our own tree rather than YAML::Node: every node remembers the file and line it came from,
// which must survive `_base_` merging and overrides (YAML::Node marks carry no file).
struct ConfigNode {
  enum Kind { Null, Scalar, List, Map };
  Kind kind = Null;
  std::string text;     // scalar text
  bool quoted = false;  // a quoted (or !!str) scalar is a string, never a number or bool
  std::vector<std::shared_ptr<ConfigNode>> items;                          // List
  std::vector<std::pair<std::string, std::shared_ptr<ConfigNode>>> entries;  // Map, file order
  std::string file;
  int line = 0;  // 1-based, 0 when unknown

  std::shared_ptr<ConfigNode> find(const std::string& key) const {
    for (const auto& [k, v] : entries)
      if (k == key) return v;
    return nullptr;
  }
  void set(const std::string& key, std::shared_ptr<ConfigNode> value) {
    for (auto& [k, v] : entries)
      if (k == key) {
        v = std::move(value);
        return;
      }
    entries.emplace_back(key, std::move(value));
  }
  void erase(const std::string& key) {
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const auto& e) { return e.first == key; }),
                  entries.end());
  }
};

struct Config::Tree {
  std::shared_ptr<ConfigNode> root;
};

namespace {

using NodePtr = std::shared_ptr<ConfigNode>;

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// "'abc'", "a list", "a map", "null": what a node is, for "expected X, got Y" messages.
std::string describe(const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Null: return "null";
    case ConfigNode::List: return "a list";
    case ConfigNode::Map: return "a map";
    case ConfigNode::Scalar: break;
  }
  return "'" + n.text + "'";
}

[[noreturn]] void fail_at(const ConfigNode& n, const std::string& key_path, const std::string& what) {
  throw_config_error(n.file, n.line, key_path, what);
}

NodePtr convert(const YAML::Node& y, const std::string& file, int line_hint, const std::string& path) {
  auto n = std::make_shared<ConfigNode>();
  n->file = file;
  const YAML::Mark mark = y.Mark();
  n->line = line_hint > 0 ? line_hint : (mark.is_null() ? 0 : mark.line + 1);
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: n->kind = ConfigNode::Null; break;
    case YAML::NodeType::Scalar:
      n->kind = ConfigNode::Scalar;
      n->text = y.Scalar();
      n->quoted = y.Tag() == "!" || y.Tag() == "tag:yaml.org,2002:str";
      break;
    case YAML::NodeType::Sequence: {
      n->kind = ConfigNode::List;
      size_t i = 0;
      for (const auto& item : y) n->items.push_back(convert(item, file, 0, join_path(path, std::to_string(i++))));
      break;
    }
    case YAML::NodeType::Map:
      n->kind = ConfigNode::Map;
      for (const auto& kv : y) {
        const int key_line = kv.first.Mark().is_null() ? 0 : kv.first.Mark().line + 1;
        if (!kv.first.IsScalar())
          throw_config_error(file, key_line, path, "map keys must be plain strings");
        const std::string key = kv.first.Scalar();
        if (n->find(key)) throw_config_error(file, key_line, path, "duplicate key '" + key + "'");
        // A map value is located at its key, the line a user looks for.
        n->entries.emplace_back(key, convert(kv.second, file, key_line, join_path(path, key)));
      }
      break;
  }
  return n;
}

// Parses YAML text; syntax errors become "<origin>:<line>: invalid YAML: <why>".
NodePtr parse_yaml(const std::string& text, const std::string& origin) {
  YAML::Node y;
  try {
    y = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw_config_error(origin, e.mark.is_null() ? 0 : e.mark.line + 1, "", "invalid YAML: " + e.msg);
  }
  return convert(y, origin, 0, "");
}

bool is_delete_marker(const NodePtr& v) {
  return v && v->kind == ConfigNode::Scalar && !v->quoted && v->text == "true";
}

// `_delete_` only steers merging; it is never a key of the result.
void strip_delete_markers(ConfigNode& n) {
  n.erase("_delete_");
  for (auto& e : n.entries) strip_delete_markers(*e.second);
  for (auto& i : n.items) strip_delete_markers(*i);
}

// Merges `src` into `dst` (both maps): maps merge key by key, anything else replaces.
// mmseg's `_delete_: true` in a src map replaces the dst map instead of merging.
void merge_into(ConfigNode& dst, const ConfigNode& src) {
  for (const auto& [key, value] : src.entries) {
    NodePtr old = dst.find(key);
    if (value->kind == ConfigNode::Map && old && old->kind == ConfigNode::Map &&
        !is_delete_marker(value->find("_delete_"))) {
      value->erase("_delete_");
      merge_into(*old, *value);
      continue;
    }
    strip_delete_markers(*value);
    dst.set(key, value);
  }
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_file_error(file.string(), "cannot open config file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `chain`: the files being loaded (outermost first) as {canonical, display} pairs.
NodePtr load_file(const fs::path& file, std::vector<std::pair<fs::path, std::string>>& chain) {
  const fs::path canonical = fs::weakly_canonical(file);
  const std::string name = file.lexically_normal().string();
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i].first != canonical) continue;
    std::string cycle;
    for (size_t j = i; j < chain.size(); ++j) cycle += chain[j].second + " -> ";
    throw_config_error(chain.back().second, 0, "_base_", "inheritance cycle: " + cycle + name);
  }

  NodePtr root = parse_yaml(read_text(file), name);
  if (root->kind == ConfigNode::Null) {  // empty file
    root->kind = ConfigNode::Map;
  } else if (root->kind != ConfigNode::Map) {
    fail_at(*root, "", "expected a map at the top level, got " + describe(*root));
  }
  const NodePtr bases = root->find("_base_");
  if (!bases) return root;

  std::vector<NodePtr> base_names;
  if (bases->kind == ConfigNode::Scalar) base_names.push_back(bases);
  else if (bases->kind == ConfigNode::List) base_names = bases->items;
  for (const auto& b : base_names)
    if (b->kind != ConfigNode::Scalar)
      fail_at(*bases, "_base_", "expected a file name or a list of file names, got " + describe(*b));
  if (base_names.empty() && bases->kind != ConfigNode::List)
    fail_at(*bases, "_base_", "expected a file name or a list of file names, got " + describe(*bases));

  auto merged = std::make_shared<ConfigNode>();
  merged->kind = ConfigNode::Map;
  merged->file = root->file;
  merged->line = root->line;
  chain.emplace_back(canonical, name);
  for (const auto& b : base_names) {
    const fs::path base_file = file.parent_path() / b->text;
    std::error_code ec;
    if (!fs::is_regular_file(base_file, ec))
      fail_at(*b, "_base_", "base file '" + b->text + "' not found (looked for " +
                                base_file.lexically_normal().string() + ")");
    merge_into(*merged, *load_file(base_file, chain));
  }
  chain.pop_back();
  root->erase("_base_");
  merge_into(*merged, *root);
  return merged;
}

// ---- typed scalar reads ----------------------------------------------------------------

bool parse_bool(const ConfigNode& n, bool* out) {
  if (n.kind != ConfigNode::Scalar || n.quoted) return false;
  static const char* const kTrue[] = {"true", "True", "TRUE"};
  static const char* const kFalse[] = {"false", "False", "FALSE"};
  for (const char* t : kTrue)
    if (n.text == t) return *out = true, true;
  for (const char* f : kFalse)
    if (n.text == f) return *out = false, true;
  return false;
}

// YAML 1.2 core integers: [-+]?[0-9]+, 0x.., 0o...
bool parse_int(const ConfigNode& n, int64_t* out) {
  if (n.kind != ConfigNode::Scalar || n.quoted) return false;
  const std::string& t = n.text;
  const char* p = t.data();
  const char* end = p + t.size();
  int base = 10;
  bool negative = false;
  if (p != end && (*p == '+' || *p == '-')) negative = *p++ == '-';
  if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
    base = p[1] == 'x' ? 16 : 8;
    p += 2;
  }
  if (p == end) return false;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(p, end, magnitude, base);
  if (ec != std::errc() || ptr != end) return false;
  const uint64_t limit = negative ? uint64_t(std::numeric_limits<int64_t>::max()) + 1
                                  : uint64_t(std::numeric_limits<int64_t>::max());
  if (magnitude > limit) return false;
  *out = negative ? int64_t(0 - magnitude) : int64_t(magnitude);
  return true;
}

// Decimal floats ("1", "1.5", "-2e-3", ".5") and .inf / .nan; integers are numbers too.
bool parse_double(const ConfigNode& n, double* out) {
  if (n.kind != ConfigNode::Scalar || n.quoted) return false;
  std::string t = n.text;
  int64_t as_int = 0;
  if (parse_int(n, &as_int) && t.find_first_of("xo") != std::string::npos) {
    *out = double(as_int);
    return true;
  }
  double sign = 1;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    if (t[0] == '-') sign = -1;
    t.erase(0, 1);
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) return false;
  }
  if (t == ".inf" || t == ".Inf" || t == ".INF") return *out = sign * HUGE_VAL, true;
  if ((t == ".nan" || t == ".NaN" || t == ".NAN") && sign > 0) return *out = NAN, true;
  // from_chars also takes "inf"/"nan"/hex digits; YAML spells those differently.
  if (t.empty() || t.find_first_not_of("0123456789.eE+-") != std::string::npos) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) return false;
  *out = sign * v;
  return true;
}

template <class T> struct Reader;

template <> struct Reader<bool> {
  static constexpr const char* kWhat = "a boolean (true/false)";
  static bool read(const ConfigNode& n, bool* v) { return parse_bool(n, v); }
};
template <> struct Reader<int64_t> {
  static constexpr const char* kWhat = "an integer";
  static bool read(const ConfigNode& n, int64_t* v) { return parse_int(n, v); }
};
template <> struct Reader<int> {
  static constexpr const char* kWhat = "an integer (32-bit)";
  static bool read(const ConfigNode& n, int* v) {
    int64_t w = 0;
    if (!parse_int(n, &w) || w < std::numeric_limits<int>::min() || w > std::numeric_limits<int>::max())
      return false;
    *v = int(w);
    return true;
  }
};
template <> struct Reader<double> {
  static constexpr const char* kWhat = "a number";
  static bool read(const ConfigNode& n, double* v) { return parse_double(n, v); }
};
template <> struct Reader<float> {
  static constexpr const char* kWhat = "a number (float range)";
  static bool read(const ConfigNode& n, float* v) {
    double w = 0;
    if (!parse_double(n, &w) || (std::isfinite(w) && std::fabs(w) > FLT_MAX)) return false;
    *v = float(w);
    return true;
  }
};
template <> struct Reader<std::string> {
  static constexpr const char* kWhat = "a string";
  static bool read(const ConfigNode& n, std::string* v) {
    if (n.kind != ConfigNode::Scalar) return false;
    *v = n.text;
    return true;
  }
};

template <class T> std::string plural_of();
template <> std::string plural_of<int64_t>() { return "integers"; }
template <> std::string plural_of<int>() { return "integers (32-bit)"; }
template <> std::string plural_of<double>() { return "numbers"; }
template <> std::string plural_of<float>() { return "numbers (float range)"; }
template <> std::string plural_of<std::string>() { return "strings"; }

template <class T>
T read_scalar(const ConfigNode& n, const std::string& key_path) {
  T v{};
  if (!Reader<T>::read(n, &v))
    fail_at(n, key_path, std::string("expected ") + Reader<T>::kWhat + ", got " + describe(n));
  return v;
}

template <class T>
std::vector<T> read_list(const ConfigNode& n, const std::string& key_path) {
  const std::string expected = "expected a list of " + plural_of<T>();
  if (n.kind != ConfigNode::List) fail_at(n, key_path, expected + ", got " + describe(n));
  std::vector<T> out;
  for (size_t i = 0; i < n.items.size(); ++i) {
    T v{};
    if (!Reader<T>::read(*n.items[i], &v))
      fail_at(*n.items[i], key_path,
              expected + ", got " + describe(*n.items[i]) + " at index " + std::to_string(i));
    out.push_back(std::move(v));
  }
  return out;
}

template <class T> struct Convert {
  static T from(const ConfigNode& n, const std::string& path) { return read_scalar<T>(n, path); }
};
template <class T> struct Convert<std::vector<T>> {
  static std::vector<T> from(const ConfigNode& n, const std::string& path) { return read_list<T>(n, path); }
};

// ---- dump --------------------------------------------------------------------------------

void emit(YAML::Emitter& out, const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Null: out << YAML::Null; break;
    case ConfigNode::Scalar:
      if (n.quoted) out << YAML::DoubleQuoted << n.text;
      else out << n.text;
      break;
    case ConfigNode::List: {
      const bool flat = std::all_of(n.items.begin(), n.items.end(),
                                    [](const NodePtr& i) { return i->kind != ConfigNode::Map && i->kind != ConfigNode::List; });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& i : n.items) emit(out, *i);
      out << YAML::EndSeq;
      break;
    }
    case ConfigNode::Map:
      if (n.entries.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [k, v] : n.entries) {
        out << YAML::Key << k << YAML::Value;
        emit(out, *v);
      }
      out << YAML::EndMap;
      break;
  }
}

void clear_lines(ConfigNode& n) {
  n.line = 0;
  for (auto& i : n.items) clear_lines(*i);
  for (auto& e : n.entries) clear_lines(*e.second);
}

const ConfigNode& node_of(const std::shared_ptr<void>& p) { return *static_cast<ConfigNode*>(p.get()); }
ConfigNode& mutable_node_of(const std::shared_ptr<void>& p) { return *static_cast<ConfigNode*>(p.get()); }

NodePtr deep_copy(const ConfigNode& n) {
  auto copy = std::make_shared<ConfigNode>(n);
  for (auto& item : copy->items) item = deep_copy(*item);
  for (auto& entry : copy->entries) entry.second = deep_copy(*entry.second);
  return copy;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

// A list index segment ("0", "12"); anything else is a map key.
bool parse_index(const std::string& s, size_t* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc();
}

}  // namespace

// ---- Config --------------------------------------------------------------------------------

Config::Config(std::shared_ptr<Tree> tree, std::shared_ptr<void> node, std::string key_path)
    : tree_(std::move(tree)), node_(std::move(node)), key_path_(std::move(key_path)) {}

Config Config::load(const fs::path& file) {
  std::vector<std::pair<fs::path, std::string>> chain;
  auto tree = std::make_shared<Tree>();
  tree->root = load_file(file, chain);
  return Config(tree, tree->root, "");
}

Config Config::parse(const std::string& yaml_text, const std::string& origin) {
  auto tree = std::make_shared<Tree>();
  tree->root = parse_yaml(yaml_text, origin);
  return Config(tree, tree->root, "");
}

void Config::apply_override(const std::string& assignment) {
  // A bad override is a mistake in the command line: a usage error (exit code 2).
  try {
    const std::string origin = "--set " + assignment;
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw_file_error(origin, "expected key.path=value");
    const std::vector<std::string> parts = split_path(assignment.substr(0, eq));
    for (const auto& p : parts)
      if (p.empty()) throw_file_error(origin, "empty key in '" + assignment.substr(0, eq) + "'");
    NodePtr value = parse_yaml(assignment.substr(eq + 1), origin);
    clear_lines(*value);  // "line 1" of a command-line value would only mislead

    ConfigNode* cur = &mutable_node_of(node_);
    std::string path = key_path_;
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& part = parts[i];
      const bool last = i + 1 == parts.size();
      if (cur->kind == ConfigNode::Null) cur->kind = ConfigNode::Map;  // "key:" then "--set key.x=1"
      if (cur->kind == ConfigNode::List) {
        size_t index = 0;
        if (!parse_index(part, &index) || index >= cur->items.size())
          throw_config_error(origin, 0, path,
                             "no list index '" + part + "' (list has " + std::to_string(cur->items.size()) + " items)");
        if (last) cur->items[index] = value;
        else cur = cur->items[index].get();
      } else if (cur->kind == ConfigNode::Map) {
        NodePtr child = cur->find(part);
        if (last) {
          cur->set(part, value);
        } else {
          if (!child) {
            child = std::make_shared<ConfigNode>();
            child->kind = ConfigNode::Map;
            child->file = origin;
            cur->set(part, child);
          }
          cur = child.get();
        }
      } else {
        throw_config_error(origin, 0, path, "cannot set key '" + part + "' inside " + describe(*cur));
      }
      path = join_path(path, part);
    }
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

void Config::set(const std::string& key, const Config& value) {
  ConfigNode& n = mutable_node_of(node_);
  if (n.kind == ConfigNode::Null) n.kind = ConfigNode::Map;
  if (n.kind != ConfigNode::Map) fail("cannot set key '" + key + "' inside " + describe(n));
  n.set(key, deep_copy(node_of(value.node_)));
}

int64_t Config::get_int_in_or(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const {
  if (!has(key)) return fallback;
  const auto value = get<int64_t>(key);
  if (value < lo || value > hi)
    (*this)[key].fail("must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(value));
  return value;
}

std::vector<int64_t> Config::get_ints_in(const std::string& key, int64_t lo, int64_t hi) const {
  const auto values = get<std::vector<int64_t>>(key);
  for (const auto value : values)
    if (value < lo || value > hi)
      (*this)[key].fail("entries must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                        std::to_string(value));
  return values;
}

bool Config::has(const std::string& key) const {
  const ConfigNode* cur = &node_of(node_);
  if (cur->kind == ConfigNode::Map && cur->find(key)) return true;  // a literal key with dots
  for (const auto& part : split_path(key)) {
    size_t index = 0;
    if (cur->kind == ConfigNode::Map) {
      NodePtr child = cur->find(part);
      if (!child) return false;
      cur = child.get();
    } else if (cur->kind == ConfigNode::List && parse_index(part, &index) && index < cur->items.size()) {
      cur = cur->items[index].get();
    } else {
      return false;
    }
  }
  return true;
}

Config Config::operator[](const std::string& key) const {
  if (const ConfigNode& n = node_of(node_); n.kind == ConfigNode::Map)
    if (NodePtr literal = n.find(key)) return Config(tree_, literal, join_path(key_path_, key));
  Config cur = *this;
  for (const auto& part : split_path(key)) {
    const ConfigNode& n = node_of(cur.node_);
    size_t index = 0;
    if (n.kind == ConfigNode::List && parse_index(part, &index)) {
      cur = cur.at(index);
      continue;
    }
    if (n.kind != ConfigNode::Map) cur.fail("expected a map with key '" + part + "', got " + describe(n));
    NodePtr child = n.find(part);
    if (!child) cur.fail("missing key '" + part + "'");
    cur = Config(tree_, child, join_path(cur.key_path_, part));
  }
  return cur;
}

Config Config::at(size_t i) const {
  const ConfigNode& n = node_of(node_);
  if (n.kind != ConfigNode::List) fail("expected a list, got " + describe(n));
  if (i >= n.items.size())
    fail("index " + std::to_string(i) + " out of range (list has " + std::to_string(n.items.size()) + " items)");
  return Config(tree_, n.items[i], join_path(key_path_, std::to_string(i)));
}

size_t Config::size() const {
  const ConfigNode& n = node_of(node_);
  return n.kind == ConfigNode::List ? n.items.size() : n.kind == ConfigNode::Map ? n.entries.size() : 0;
}

bool Config::is_map() const { return node_of(node_).kind == ConfigNode::Map; }
bool Config::is_list() const { return node_of(node_).kind == ConfigNode::List; }
bool Config::is_scalar() const { return node_of(node_).kind == ConfigNode::Scalar; }
bool Config::is_null() const { return node_of(node_).kind == ConfigNode::Null; }

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  for (const auto& e : node_of(node_).entries) out.push_back(e.first);
  return out;
}

template <class T>
T Config::as() const {
  return Convert<T>::from(node_of(node_), key_path_);
}

template bool Config::as<bool>() const;
template int64_t Config::as<int64_t>() const;
template int Config::as<int>() const;
template double Config::as<double>() const;
template float Config::as<float>() const;
template std::string Config::as<std::string>() const;
template std::vector<int64_t> Config::as<std::vector<int64_t>>() const;
template std::vector<int> Config::as<std::vector<int>>() const;
template std::vector<double> Config::as<std::vector<double>>() const;
template std::vector<float> Config::as<std::vector<float>>() const;
template std::vector<std::string> Config::as<std::vector<std::string>>() const;

void Config::check_keys(const std::vector<std::string>& allowed) const {
  const ConfigNode& n = node_of(node_);
  if (n.kind != ConfigNode::Map) fail("expected a map, got " + describe(n));
  for (const auto& [key, value] : n.entries) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string known;
    for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
    throw_config_error(value->file, value->line, key_path_, "unknown key '" + key + "' (known: " + known + ")");
  }
}

std::string Config::key_path() const { return key_path_; }
std::string Config::file() const { return node_of(node_).file; }
int Config::line() const { return node_of(node_).line; }

void Config::fail(const std::string& what) const {
  const ConfigNode& n = node_of(node_);
  throw_config_error(n.file, n.line, key_path_, what);
}

std::string Config::dump() const {
  YAML::Emitter out;
  emit(out, node_of(node_));
  return std::string(out.c_str()) + "\n";
}

std::vector<double> read_per_channel(const Config& node, const std::string& key, int64_t channels) {
  const auto values = node.get<std::vector<double>>(key);
  if (static_cast<int64_t>(values.size()) != channels)
    node[key].fail("needs one value per input channel (" + std::to_string(channels) + "), got " +
                   std::to_string(values.size()));
  return values;
}

}  // namespace vss
