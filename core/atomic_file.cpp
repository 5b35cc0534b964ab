#include "core/atomic_file.h"

#include "core/error.h"
#include "core/interrupt.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <ostream>
#include <streambuf>
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

// An output buffer on a file descriptor that keeps the errno of the first failed write: an
// ofstream keeps only a failbit, and by commit() errno says something else or nothing.
class AtomicFile::Buffer : public std::streambuf {
 public:
  explicit Buffer(int fd) : fd_(fd) { setp(data_, data_ + sizeof data_); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* p = pbase();
    while (p < pptr() && error_ == 0) {
      const ssize_t n = ::write(fd_, p, static_cast<size_t>(pptr() - p));
      if (n >= 0) p += n;
      else if (errno != EINTR) error_ = errno;
    }
    setp(data_, data_ + sizeof data_);
    return error_ == 0;
  }
  int fd_;
  int error_ = 0;
  char data_[1 << 16];
};

AtomicFile::AtomicFile(const fs::path& path) : path_(path) {
  static std::atomic<unsigned> counter{0};  // distinct temp names for concurrent writers
  std::error_code ec;
  const fs::file_status status = fs::status(path_, ec);
  const bool in_place = fs::exists(status) && !fs::is_regular_file(status) && !fs::is_directory(status);
  temp_ = path_;
  if (!in_place) temp_ += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    const int err = errno;
    done_ = true;  // nothing to clean up
    throw_file_error(path_.string(), (in_place ? "cannot open for writing: " : "cannot create temporary file " +
                                                                                   temp_.string() + ": ") +
                                         std::strerror(err));
  }
  if (!in_place) registration_ = std::make_unique<TempFileRegistration>(temp_);
  buffer_ = std::make_unique<Buffer>(fd_);
  out_ = std::make_unique<std::ostream>(buffer_.get());
}

AtomicFile::~AtomicFile() {
  if (done_) return;
  close_file();
  if (temp_ != path_) ::unlink(temp_.c_str());
}

std::ostream& AtomicFile::stream() { return *out_; }

void AtomicFile::write(const void* data, size_t size) {
  if (done_) throw_file_error(path_.string(), "write after commit");
  out_->write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

void AtomicFile::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void AtomicFile::fail(const std::string& what, int err) {
  close_file();
  if (temp_ != path_) ::unlink(temp_.c_str());
  registration_.reset();
  done_ = true;
  throw_file_error(path_.string(), what + (err ? std::string(": ") + std::strerror(err) : ""));
}

void AtomicFile::commit() {
  if (done_) throw_file_error(path_.string(), "commit called twice");
  out_->flush();
  if (!*out_ || buffer_->error()) fail("write failed", buffer_->error());
  if (temp_ == path_) {  // a device or pipe: nothing to sync or rename
    close_file();
    done_ = true;
    return;
  }
  if (::fsync(fd_) != 0) fail("fsync failed", errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("write failed", errno);  // NFS and quotas may report a full disk only here
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename " + temp_.string() + " onto it", errno);
  done_ = true;
  registration_.reset();
  // Make the rename itself durable; a failure here cannot be undone, so it is not an error.
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFile out(path);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

void check_creatable(const fs::path& path) {
  std::error_code ec;
  fs::path dir = path.parent_path();
  while (!dir.empty() && !fs::exists(dir, ec) && dir != dir.parent_path()) dir = dir.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) throw_file_error(path.string(), dir.string() + " is not a folder");
  std::string probe = (dir / ".vss-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    const int err = errno;
    throw_file_error(path.string(), "cannot create files in " + dir.string() + ": " + std::strerror(err));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace vss
