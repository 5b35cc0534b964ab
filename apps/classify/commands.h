#pragma once
// The commands of vss-classify, one file each; main.cpp dispatches to them.
#include <string>
#include <vector>

namespace vss_classify {

int run_classify(const std::vector<std::string>& args);  // the main command (classify.cpp)
int run_eval(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

}  // namespace vss_classify
