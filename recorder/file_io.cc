#include "recorder/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "broker/common/absl_fmt.h"

namespace portcullis::recorder {

absl::Status FileError(int err, const std::string& path, std::string_view what) {
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(fmt::format("recording: disk full writing {}", path));
  }
  return absl::InternalError(
      fmt::format("recording: cannot {} {}: {}", what, path, std::strerror(err)));
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path, size_t* written) {
  size_t done = 0;
  absl::Status st;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = FileError(errno, path, "write");
      break;
    }
    if (n == 0) {
      st = FileError(EIO, path, "write");
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (written != nullptr) *written = done;
  return st;
}

absl::Status DataSync(int fd, const std::string& path) {
  int rc;
  do {
    rc = ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINVAL && errno != EROFS) return FileError(errno, path, "sync");
  return absl::OkStatus();
}

absl::Status SyncParentDirectory(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FileError(errno, dir, "open directory");
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != EROFS) return FileError(err, dir, "sync");
  return absl::OkStatus();
}

}  // namespace portcullis::recorder
