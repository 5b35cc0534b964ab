#pragma once
// Crash-safe file output: everything is written to a temporary file in the same directory,
// flushed to disk (fsync) and renamed over the target, so readers see either the old file
// or the complete new one, never a half-written file.
//   vss::AtomicFile out("model.safetensors");
//   out.write(header.data(), header.size());
//   out.stream() << more;          // or any std::ostream writer (torch::save, YAML, ...)
//   out.commit();                  // nothing appears at the target without this
#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace vss {

class TempFileRegistration;

class AtomicFile {
 public:
  // Creates "<path>.tmp.<pid>.<n>" beside `path`; error naming `path` if it cannot. A target
  // that exists and is not a regular file (/dev/stdout, a pipe) is written in place: there is
  // nothing to rename onto it.
  explicit AtomicFile(const std::filesystem::path& path);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  void write(const void* data, size_t size);
  // Flushes, fsyncs, renames onto the target and fsyncs the directory. On any failure the
  // temporary file is removed and a vss::Error names the target path and the system's reason
  // ("No space left on device").
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  class Buffer;
  [[noreturn]] void fail(const std::string& what, int err);
  void close_file();
  std::filesystem::path path_, temp_;  // temp_ == path_ when written in place
  int fd_ = -1;
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<std::ostream> out_;
  std::unique_ptr<TempFileRegistration> registration_;  // removed on Ctrl-C (core/interrupt.h)
  bool done_ = false;
};

// One-shot form: writes `bytes` to `path` atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Throws vss::Error naming `path` unless a file can be created there: the nearest existing
// folder above it (folders still to be made count as creatable) is probed with a temporary
// file, removed at once, so a run can check its outputs before it writes or makes anything.
void check_creatable(const std::filesystem::path& path);

}  // namespace vss
