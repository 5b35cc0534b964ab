#include "datasets/file_matching.h"

#include "core/error.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

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

std::vector<std::string> read_name_list(const std::string& list_file) {
  std::ifstream in(list_file);
  if (!in) throw_file_error(list_file, "cannot open the split list");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    names.push_back(line.substr(first, last - first + 1));
  }
  return names;
}

FileMatching select_listed(const FileMatching& all, const std::string& list_file, const std::string& roles) {
  std::map<std::string, const MatchedFiles*> complete;
  for (const auto& m : all.matched) complete[m.name] = &m;
  std::map<std::string, std::string> incomplete;
  for (const auto& line : all.skipped) incomplete[line.substr(0, line.find(": only in "))] = line;
  FileMatching out;
  std::set<std::string> seen;
  for (const auto& entry : read_name_list(list_file)) {
    const std::string name = std::filesystem::path(entry).stem().string();
    if (!seen.insert(name).second) continue;
    if (const auto it = complete.find(name); it != complete.end()) out.matched.push_back(*it->second);
    else if (const auto jt = incomplete.find(name); jt != incomplete.end()) out.skipped.push_back(jt->second);
    else out.skipped.push_back(name + ": listed in " + list_file + " but in none of " + roles);
  }
  return out;
}

}  // namespace vss
