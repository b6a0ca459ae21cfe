#include "recorder/export/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "recorder/file_io.h"

namespace portcullis::recorder {
namespace {

std::atomic<unsigned> g_counter{0};

absl::Status CreateError(int err, const std::string& what, const std::string& path) {
  std::string msg = fmt::format("cannot {} {}: {}", what, path, std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR: return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS: return absl::PermissionDeniedError(msg);
    case EEXIST: return absl::AlreadyExistsError(msg);
    case ENOSPC:
    case EDQUOT: return absl::ResourceExhaustedError(msg);
    default: return absl::UnavailableError(msg);
  }
}

}  // namespace

OutputFile::OutputFile(std::string path, bool overwrite)
    : path_(std::move(path)), overwrite_(overwrite) {}

OutputFile::~OutputFile() { Discard(); }

absl::Status OutputFile::Create() {
  if (path_.empty()) return absl::InvalidArgumentError("no output file given");
  if (path_.back() == '/') return absl::InvalidArgumentError(fmt::format("{} is a directory", path_));
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(fmt::format("{} is a directory", path_));
    if (!overwrite_) {
      return absl::AlreadyExistsError(fmt::format("{} exists (overwrite not requested)", path_));
    }
  }
  const size_t slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  temp_ = fmt::format("{}.{}.part.{}.{}", dir, name, ::getpid(), g_counter.fetch_add(1));
  int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    std::string where = dir.empty() ? "." : dir;
    temp_.clear();
    return CreateError(err, "create a file in", where);
  }
  ::close(fd);
  created_ = true;
  return absl::OkStatus();
}

absl::Status OutputFile::Commit() {
  if (!created_) return absl::FailedPreconditionError("output file not created");
  int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CreateError(errno, "open", temp_);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) return CreateError(err, "sync", temp_);
  if (overwrite_) {
    if (::rename(temp_.c_str(), path_.c_str()) != 0) return CreateError(errno, "write", path_);
  } else {
    // link(2) never replaces: a file that appeared meanwhile is kept.
    if (::link(temp_.c_str(), path_.c_str()) != 0) return CreateError(errno, "write", path_);
    ::unlink(temp_.c_str());
  }
  committed_ = true;
  created_ = false;
  return SyncParentDirectory(path_);
}

void OutputFile::Discard() {
  if (created_ && !committed_) ::unlink(temp_.c_str());
  created_ = false;
}

}  // namespace portcullis::recorder
