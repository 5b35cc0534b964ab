#pragma once
// Outputs never replace inputs: every app that writes files next to the files it reads checks
// its planned outputs against its inputs before any work (a mask written over the image it came
// from loses data for good).
#include <filesystem>
#include <string>
#include <vector>

namespace vss {

// Throws vss::Error "<output>: would overwrite the input <input> (<remedy>)" when an output
// names the same file as an input (the same inode: through symlinks, hard links, "./", "..").
// Outputs that do not exist yet cannot be inputs; inputs that do not exist are ignored.
void refuse_overwriting_inputs(const std::vector<std::filesystem::path>& outputs,
                               const std::vector<std::filesystem::path>& inputs, const std::string& remedy);

}  // namespace vss
