#include "recorder/recording_directory.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"
#include "recorder/file_io.h"
#include "recorder/recording_sealer.h"
#include "recorder/seal_format.h"

namespace portcullis::recorder {
namespace {

constexpr size_t kMaxSessionIdLength = 64;

bool ValidSessionId(std::string_view id) {
  if (id.empty() || id.size() > kMaxSessionIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

RecordingDirectory::RecordingDirectory(RecordingDirectoryOptions options, const Clock* clock)
    : options_(std::move(options)),
      clock_(clock),
      pool_(std::make_shared<WriterPool>(options_.writer_threads)) {}

std::string RecordingDirectory::PathFor(const session::RecordingInfo& info, TimePoint start,
                                        const RecordingFormat& format) const {
  const std::string utc = FormatUtc(start);  // "YYYY-MM-DDTHH:MM:SSZ"
  return fmt::format("{}/{}/{}/{}/{}.{}.{}", options_.dir, utc.substr(0, 4), utc.substr(5, 2),
                     utc.substr(8, 2), info.session_id, info.channel, format.extension);
}

absl::Status RecordingDirectory::Ready() {
  if (options_.signer == nullptr) {
    return absl::FailedPreconditionError("recordings: no recording key to seal them with");
  }
  const std::string& dir = options_.dir;
  if (dir.empty()) return absl::FailedPreconditionError("recordings: no directory configured");
  if (auto st = MakeDirs(dir, 0700); !st.ok()) {
    return absl::UnavailableError(fmt::format("recordings: {}", st.message()));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::UnavailableError(
        fmt::format("recordings: {} is not writable: {}", dir, std::strerror(errno)));
  }
  struct statvfs vfs;
  if (::statvfs(dir.c_str(), &vfs) != 0) {
    return absl::UnavailableError(
        fmt::format("recordings: cannot stat {}: {}", dir, std::strerror(errno)));
  }
  if (vfs.f_flag & ST_RDONLY) {
    return absl::UnavailableError(fmt::format("recordings: {} is on a read-only filesystem", dir));
  }
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes < options_.min_free_bytes) {
    return absl::ResourceExhaustedError(fmt::format(
        "recordings: {} has {} KiB free, below the minimum of {} KiB", dir, free_bytes >> 10,
        options_.min_free_bytes >> 10));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SealedStream>> RecordingDirectory::Open(
    const session::RecordingInfo& info, const RecordingFormat& format,
    std::unique_ptr<ChunkEncoder> encoder, size_t buffer_cap) {
  if (!ValidSessionId(info.session_id)) {
    return absl::InvalidArgumentError("recording: invalid session id");
  }
  if (info.channel < 0) return absl::InvalidArgumentError("recording: negative channel");
  if (!ValidFormat(format)) {
    return absl::InvalidArgumentError("recording: invalid media type or file extension");
  }
  PC_RETURN_IF_ERROR(Ready());
  const TimePoint start = info.started == TimePoint{} ? clock_->Now() : info.started;
  const std::string path = PathFor(info, start, format);
  const std::string parent = path.substr(0, path.rfind('/'));
  // New YYYY, MM and DD directories are synced into their parents; the
  // sealer syncs the day directory's entries at the first checkpoint.
  if (auto st = MakeDirsDurably(parent); !st.ok()) return absl::UnavailableError(st.message());
  if (options_.observer != nullptr) PC_RETURN_IF_ERROR(options_.observer->Opened(info, path));
  auto refused = [&](absl::Status st) {
    if (options_.observer != nullptr) {
      session::RecordingEnd end;
      end.recording_id = info.RecordingId();
      end.state = "failed";
      end.end_reason = "recording refused";
      end.failure = std::string(st.message());
      end.ended = clock_->Now();
      options_.observer->Closed(end);
    }
    return st;
  };
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return refused(absl::AlreadyExistsError(fmt::format("recording: {} already exists", path)));
    }
    return refused(absl::UnavailableError(
        fmt::format("recording: cannot create {}: {}", path, std::strerror(errno))));
  }
  SealOptions seal;
  seal.signer = options_.signer;
  seal.recording_id = info.RecordingId();
  seal.seal_path = PathsFor(path).seal;
  seal.clock = clock_;
  seal.checkpoint_interval = options_.checkpoint_interval;
  seal.checkpoint_bytes = options_.checkpoint_bytes;
  auto sealer = RecordingSealer::Create(std::move(seal));
  if (!sealer.ok()) {
    ::close(fd);
    ::unlink(path.c_str());  // empty and ours: nothing is lost
    return refused(sealer.status());
  }
  BufferedFileOptions file_opts;
  file_opts.buffer_cap = buffer_cap != 0 ? buffer_cap : options_.buffer_cap;
  file_opts.max_bytes = options_.max_recording_bytes;
  file_opts.sealer = std::move(*sealer);
  file_opts.encoder = std::move(encoder);
  return std::make_unique<SealedStream>(info, format, start, clock_, pool_, fd, path,
                                        std::move(file_opts),
                                        WriterSealing{options_.signer, options_.observer});
}

}  // namespace portcullis::recorder
