#pragma once
// safetensors reading (mmap) and writing (atomic), conventions.md §4.1.
// Every malformed file is a vss::Error naming the file and what is wrong.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vss {

struct SafetensorsFile {
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // in file (offset) order, CPU, owning
  std::map<std::string, std::string> metadata;              // "__metadata__"

  bool contains(const std::string& name) const;
  const at::Tensor& at(const std::string& name) const;  // error naming the file if missing
  std::string source;                                   // path it was read from
};

SafetensorsFile read_safetensors(const std::filesystem::path& file);

// Writes to "<file>.tmp.<pid>" and renames, so a crash never leaves a half-written file.
// Tensors are made contiguous and copied to CPU; names must be unique.
void write_safetensors(const std::filesystem::path& file,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace vss
