#include "datasets/file_matching.h"

#include "core/error.h"

#include <filesystem>
#include <map>

namespace vss {

FileMatching match_by_name(const std::vector<FileRole>& roles) {
  // name -> one path per role ("" where the role lacks it)
  std::map<std::string, std::vector<std::string>> by_name;
  for (size_t r = 0; r < roles.size(); ++r)
    for (const auto& path : roles[r].paths) {
      const std::string name = std::filesystem::path(path).stem().string();
      auto& slots = by_name.try_emplace(name, roles.size()).first->second;
      if (!slots[r].empty())
        throw Error(roles[r].role + ": two files named '" + name + "': " + slots[r] + " and " + path);
      slots[r] = path;
    }
  FileMatching out;
  for (auto& [name, paths] : by_name) {
    std::string have, lack;
    for (size_t r = 0; r < roles.size(); ++r) {
      std::string& list = paths[r].empty() ? lack : have;
      list += (list.empty() ? "" : ", ") + roles[r].role;
    }
    if (lack.empty()) out.matched.push_back({name, std::move(paths)});
    else out.skipped.push_back(name + ": only in " + have + " (no " + lack + ")");
  }
  return out;
}

}  // namespace vss
