#pragma once
// The commands of vss-restore, one file each; main.cpp dispatches to them.
#include <string>
#include <vector>

namespace vss_restore {

int run_restore(const std::vector<std::string>& args);  // the main command (restore.cpp)
int run_eval(const std::vector<std::string>& args);
int run_degrade(const std::vector<std::string>& args);
int run_pack(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

}  // namespace vss_restore
