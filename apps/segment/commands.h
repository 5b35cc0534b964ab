#pragma once
// The commands of vss-segment, one file each; main.cpp dispatches to them.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vss_segment {

int run_segment(const std::vector<std::string>& args);  // the main command (segment.cpp)
int run_eval(const std::vector<std::string>& args);
int run_make_data(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

// "512" or "512x1024" (h x w) of the option `what` (--crop, --stride, --size); a vss::Error
// naming it when the text is not one.
std::array<int64_t, 2> parse_hw(const std::string& text, const std::string& what);

}  // namespace vss_segment
