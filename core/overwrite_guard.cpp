#include "core/overwrite_guard.h"

#include "core/error.h"

#include <sys/stat.h>

#include <map>
#include <utility>

namespace vss {

namespace {

using FileId = std::pair<dev_t, ino_t>;

bool file_id(const std::filesystem::path& path, FileId* id) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  *id = {st.st_dev, st.st_ino};
  return true;
}

}  // namespace

void refuse_overwriting_inputs(const std::vector<std::filesystem::path>& outputs,
                               const std::vector<std::filesystem::path>& inputs, const std::string& remedy) {
  // By inode, one stat per file: folders of thousands of images stay fast.
  std::map<FileId, const std::filesystem::path*> input_of;
  FileId id;
  for (const auto& in : inputs)
    if (file_id(in, &id)) input_of.emplace(id, &in);
  for (const auto& out : outputs) {
    if (!file_id(out, &id)) continue;
    const auto it = input_of.find(id);
    if (it != input_of.end())
      throw_file_error(out.string(), "would overwrite the input " + it->second->string() + " (" + remedy + ")");
  }
}

}  // namespace vss
