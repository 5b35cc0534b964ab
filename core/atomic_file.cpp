#include "core/atomic_file.h"

#include "core/error.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace vss {

namespace fs = std::filesystem;

namespace {

// fsync through a fresh descriptor: fsync flushes the file (inode), not just that descriptor.
bool fsync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

AtomicFile::AtomicFile(const fs::path& path) : path_(path) {
  static std::atomic<unsigned> counter{0};  // distinct temp names for concurrent writers
  temp_ = path_;
  temp_ += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  out_ = std::make_unique<std::ofstream>(temp_, std::ios::binary | std::ios::trunc);
  if (!*out_) {
    const int err = errno;
    done_ = true;  // nothing to clean up
    throw_file_error(path_.string(), "cannot create temporary file " + temp_.string() + ": " +
                                         std::strerror(err));
  }
}

AtomicFile::~AtomicFile() {
  if (done_) return;
  out_.reset();
  std::error_code ec;
  fs::remove(temp_, ec);
}

std::ostream& AtomicFile::stream() { return *out_; }

void AtomicFile::write(const void* data, size_t size) {
  if (done_) throw_file_error(path_.string(), "write after commit");
  out_->write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

void AtomicFile::fail(const std::string& what) {
  const std::string msg = what + (errno ? std::string(": ") + std::strerror(errno) : "");
  out_.reset();
  std::error_code ec;
  fs::remove(temp_, ec);
  done_ = true;
  throw_file_error(path_.string(), msg);
}

void AtomicFile::commit() {
  if (done_) throw_file_error(path_.string(), "commit called twice");
  errno = 0;
  out_->flush();
  if (!*out_) fail("write failed");
  out_->close();
  if (!*out_) fail("write failed");
  if (!fsync_path(temp_, O_RDONLY)) fail("fsync failed");
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename " + temp_.string() + " onto it");
  done_ = true;
  // Make the rename itself durable; a failure here cannot be undone, so it is not an error.
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFile out(path);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

}  // namespace vss
