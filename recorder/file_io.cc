#include "recorder/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "broker/common/absl_fmt.h"
#include "broker/common/status_macros.h"

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

absl::Status MakeDirsDurably(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("recording: no directory");
  // Every prefix ending before a '/', then `dir` itself.
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const std::string level = end == std::string::npos ? dir : dir.substr(0, end);
    if (!level.empty() && level.back() != '/') {
      if (::mkdir(level.c_str(), 0700) == 0) {
        PC_RETURN_IF_ERROR(SyncParentDirectory(level));
      } else if (errno != EEXIST) {
        return FileError(errno, level, "create directory");
      }
    }
    if (end == std::string::npos) break;
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FileError(ENOTDIR, dir, "create directory");
  }
  return absl::OkStatus();
}

}  // namespace portcullis::recorder
