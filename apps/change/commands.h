#pragma once
// The commands of vss-change, one file each; main.cpp dispatches to them.
#include <string>
#include <vector>

namespace vss {
class Config;
}

namespace vss_change {

int run_change(const std::vector<std::string>& args);  // the main command (change.cpp)
int run_eval(const std::vector<std::string>& args);
int run_make_data(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

// The model's `type:`, so each mode can say which model it needs.
std::string model_type(const vss::Config& node);

}  // namespace vss_change
