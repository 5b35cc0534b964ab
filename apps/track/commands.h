#pragma once
// The commands of vss-track, one file each; main.cpp dispatches to them.
#include <string>
#include <vector>

namespace vss_track {

int run_track(const std::vector<std::string>& args);  // the main command (track.cpp)
int run_eval(const std::vector<std::string>& args);
int run_detect(const std::vector<std::string>& args);
int run_make_data(const std::vector<std::string>& args);
int run_export_mtp(const std::vector<std::string>& args);

}  // namespace vss_track
