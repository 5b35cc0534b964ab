#pragma once
// `type:` name -> factory, as in mmseg/BasicSR configs. One registry per base class. LibTorch
// errors while building (an allocation too large) come back as errors at the node.
// Built-in entries are added by an explicit function of each layer (not static
// initialisers, which a static library's linker may drop).
#include "core/config.h"
#include "core/error.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vss {

template <class Base, class... Args>
class Registry {
 public:
  using Factory = std::function<std::shared_ptr<Base>(const Config&, Args...)>;

  explicit Registry(std::string what) : what_(std::move(what)) {}

  void add(const std::string& name, Factory factory) { factories_[name] = std::move(factory); }

  bool contains(const std::string& name) const { return factories_.count(name) != 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& kv : factories_) out.push_back(kv.first);
    return out;
  }

  // node["type"] selects the factory; an unknown name lists the known ones.
  std::shared_ptr<Base> create(const Config& node, Args... args) const {
    const auto type = node.get<std::string>("type");
    auto it = factories_.find(type);
    if (it == factories_.end()) {
      std::string known;
      for (const auto& kv : factories_) known += (known.empty() ? "" : ", ") + kv.first;
      node["type"].fail("unknown " + what_ + " '" + type + "' (known: " + known + ")");
    }
    try {
      return it->second(node, args...);
    } catch (const c10::Error& e) {  // LibTorch's (a failed allocation): say which component
      std::string what = e.what_without_backtrace();
      std::replace(what.begin(), what.end(), '\n', ' ');
      node.fail("cannot build the " + what_ + " '" + type + "': " + what);
    }
  }

 private:
  std::string what_;
  std::map<std::string, Factory> factories_;
};

}  // namespace vss
