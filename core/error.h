#pragma once
// One error type for everything a user can get wrong. Its message is a single line that
// names the file, YAML key or tensor at fault, so apps can print it as is and exit 1.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vss {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A mistake in how a program was called (a malformed --set): apps print it with a pointer to
// --help and exit with code 2 instead of 1.
class UsageError : public Error {
 public:
  using Error::Error;
};

// "[2, 3, 4]"; -1 entries print as "*" (any size).
std::string shape_to_string(const std::vector<int64_t>& shape);

// "<path>: <what>"
[[noreturn]] void throw_file_error(const std::string& path, const std::string& what);
// "<file>:<line>: <key.path>: <what>" (line omitted when unknown, i.e. < 1)
[[noreturn]] void throw_config_error(const std::string& file, int line, const std::string& key_path,
                                     const std::string& what);
// "<tensor>: expected shape [..], got [..]"
[[noreturn]] void throw_shape_error(const std::string& tensor, const std::vector<int64_t>& expected,
                                    const std::vector<int64_t>& actual);

}  // namespace vss
