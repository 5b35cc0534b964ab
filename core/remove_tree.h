#pragma once
// Recursive delete. Use this instead of std::filesystem::remove_all: the pip libtorch.so
// exports its own copy of remove_all (statically linked libstdc++), which wins symbol
// lookup over the system one and crashes (jumps to address 0) on this toolchain.
#include <filesystem>

namespace vss {

// Removes `path` and everything below it (symlinks are removed, not followed). A missing
// path is fine. Throws vss::Error naming the entry that could not be removed.
void remove_tree(const std::filesystem::path& path);

}  // namespace vss
