#pragma once
// The commands of vss-detect, one file each; main.cpp dispatches to them.
#include <string>
#include <vector>

namespace vss_detect {

int run_detect(const std::vector<std::string>& args);  // the main command (detect.cpp)
int run_eval(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

}  // namespace vss_detect
