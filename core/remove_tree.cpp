#include "core/remove_tree.h"

#include "core/error.h"

#include <system_error>

namespace vss {

void remove_tree(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) return;
  if (fs::is_directory(st)) {
    std::vector<fs::path> children;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) children.push_back(it->path());
    if (ec) throw_file_error(path.string(), "cannot list directory: " + ec.message());
    for (const auto& child : children) remove_tree(child);
  }
  if (!fs::remove(path, ec) && ec) throw_file_error(path.string(), "cannot remove: " + ec.message());
}

}  // namespace vss
