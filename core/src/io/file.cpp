// File I/O for nabla::io: reading a whole file, and replacing a file atomically and durably.
//
// The atomic write is the classic sequence: write a temporary file in the target's directory
// (rename is atomic only within one file system), fsync it (so its data is on disk before the
// rename makes it visible: otherwise a crash can leave a renamed but empty file), rename it
// over the target, and fsync the directory (so the rename itself survives a crash).
#include "io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <new>
#include <system_error>

#include "nabla/error.h"
#include "nabla/io.h"

namespace nabla::io {
namespace {

namespace fs = std::filesystem;

// strerror's text, without strerror's thread-safety problem.
std::string reason(int err) { return std::generic_category().message(err); }

// Owns a file descriptor so that every error path closes it.
class Fd {
 public:
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  // close() can report a failed delayed write (NFS, quotas), so the write path checks it.
  int close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd);
  }

 private:
  int fd_ = -1;
};

int open_retrying(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do fd = ::open(path.c_str(), flags, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

// Removes the temporary file unless the rename has consumed it.
struct RemoveOnFailure {
  std::string path;
  bool armed = true;
  ~RemoveOnFailure() {
    if (armed) ::unlink(path.c_str());
  }
};

}  // namespace

std::string read_file(const std::string& path, std::string_view op) {
  Fd fd;
  fd.reset(open_retrying(path, O_RDONLY | O_CLOEXEC));
  NABLA_CHECK(fd.get() >= 0, "{}: cannot open '{}': {}", op, path, reason(errno));
  struct stat st {};
  NABLA_CHECK(::fstat(fd.get(), &st) == 0, "{}: cannot stat '{}': {}", op, path, reason(errno));
  NABLA_CHECK(!S_ISDIR(st.st_mode), "{}: '{}' is a directory, not a file", op, path);

  // Read to the end instead of trusting st_size: pipes and /proc files report 0, and a file
  // may change while it is read. One spare byte lets the final read of a regular file see
  // end-of-file without growing the buffer.
  std::string out;
  std::size_t used = 0;
  try {
    out.resize(S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) + 1 : 1 << 16);
    while (true) {
      if (used == out.size()) out.resize(out.size() * 2);
      const ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
      if (n < 0) {
        NABLA_CHECK(errno == EINTR, "{}: cannot read '{}': {}", op, path, reason(errno));
        continue;
      }
      if (n == 0) break;
      used += static_cast<std::size_t>(n);
    }
  } catch (const std::bad_alloc&) {
    NABLA_FAIL("{}: '{}' ({} bytes) does not fit in memory", op, path, static_cast<long long>(st.st_size));
  }
  out.resize(used);
  return out;
}

void write_file_atomically(const std::string& path, std::string_view bytes, std::string_view op) {
  NABLA_CHECK(!path.empty(), "{}: the path is empty", op);
  const fs::path target(path);
  NABLA_CHECK(target.has_filename(), "{}: '{}' names a directory, not a file", op, path);

  // Fail before writing anything when the target cannot be replaced, and keep the permission
  // bits of a file being replaced (a new file gets 0666 minus the umask, as open() gives).
  struct stat st {};
  bool keep_mode = false;
  if (::stat(path.c_str(), &st) == 0) {
    NABLA_CHECK(!S_ISDIR(st.st_mode), "{}: cannot write '{}': it is a directory", op, path);
    keep_mode = S_ISREG(st.st_mode);
  }

  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // A name of our own (not mkstemp's) so that open() applies the umask to 0666. The base name
  // is shortened so that prefix and suffix stay within NAME_MAX.
  static std::atomic<unsigned> counter{0};
  const std::string base = target.filename().string().substr(0, 180);
  Fd fd;
  std::string tmp;
  for (int attempt = 0;; ++attempt) {
    tmp = (dir / fmt::format(".{}.tmp-{}-{}", base, ::getpid(), counter++)).string();
    fd.reset(open_retrying(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    if (fd.get() >= 0) break;
    NABLA_CHECK(errno == EEXIST && attempt < 100,
                "{}: cannot create a temporary file in '{}' to write '{}': {}", op, dir.string(), path,
                reason(errno));
  }
  RemoveOnFailure cleanup{tmp};

  if (keep_mode) {
    NABLA_CHECK(::fchmod(fd.get(), st.st_mode & 07777) == 0, "{}: cannot set the permissions of '{}': {}", op,
                tmp, reason(errno));
  }
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    // Linux writes at most ~2 GiB per call; short writes are normal and continued.
    const ssize_t n = ::write(fd.get(), p, std::min<std::size_t>(left, std::size_t{1} << 30));
    if (n < 0) {
      NABLA_CHECK(errno == EINTR, "{}: cannot write '{}' (temporary file '{}'): {}", op, path, tmp,
                  reason(errno));
      continue;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  NABLA_CHECK(::fsync(fd.get()) == 0, "{}: cannot flush '{}' to disk: {}", op, tmp, reason(errno));
  NABLA_CHECK(fd.close() == 0, "{}: cannot close '{}': {}", op, tmp, reason(errno));
  NABLA_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, "{}: cannot rename '{}' to '{}': {}", op, tmp, path,
              reason(errno));
  cleanup.armed = false;

  // The new contents are in place; this makes the rename durable. Some file systems cannot
  // sync a directory (EINVAL): there is nothing more to do on those.
  Fd dfd;
  dfd.reset(open_retrying(dir.string(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  NABLA_CHECK(dfd.get() >= 0, "{}: cannot open directory '{}' to sync it: {}", op, dir.string(),
              reason(errno));
  NABLA_CHECK(::fsync(dfd.get()) == 0 || errno == EINVAL, "{}: cannot sync directory '{}': {}", op,
              dir.string(), reason(errno));
}

void atomic_write_file(const std::string& path, std::string_view bytes) {
  write_file_atomically(path, bytes, "atomic_write_file");
}

}  // namespace nabla::io
