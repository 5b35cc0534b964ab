#include "core/error.h"

namespace vss {

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? std::string("*") : std::to_string(shape[i]);
  }
  return s + "]";
}

void throw_file_error(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what);
}

void throw_config_error(const std::string& file, int line, const std::string& key_path,
                        const std::string& what) {
  std::string where = file;
  if (line > 0) where += ":" + std::to_string(line);
  if (!key_path.empty()) where += (where.empty() ? "" : ": ") + key_path;
  throw Error(where + ": " + what);
}

void throw_shape_error(const std::string& tensor, const std::vector<int64_t>& expected,
                       const std::vector<int64_t>& actual) {
  throw Error(tensor + ": expected shape " + shape_to_string(expected) + ", got " +
              shape_to_string(actual));
}

}  // namespace vss
