#pragma once
// Small POSIX write/sync helpers shared by the recorder's writers and its
// sealer, with the recorder's error messages ("recording: disk full writing
// PATH", "recording: cannot sync PATH: ..."). Thread-safe (no state).

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace portcullis::recorder {

// The status for errno `err` while doing `what` ("write", "sync", ...) to
// `path`: ResourceExhausted for ENOSPC/EDQUOT, Internal otherwise.
absl::Status FileError(int err, const std::string& path, std::string_view what);
// write(2)s all of `data`, retrying on EINTR and short writes. `*written`
// (if given) receives how many bytes reached the file, also on failure.
[[nodiscard]] absl::Status WriteAll(int fd, std::string_view data, const std::string& path,
                                    size_t* written = nullptr);
// fdatasync(2) with EINTR retried; a file that cannot be synced (a pipe:
// EINVAL, EROFS) counts as synced.
[[nodiscard]] absl::Status DataSync(int fd, const std::string& path);
// fsync(2)s the directory holding `path`, so a created or renamed entry
// survives a crash.
[[nodiscard]] absl::Status SyncParentDirectory(const std::string& path);
// mkdir -p `dir` (mode 0700 for what it creates), syncing the parent of
// each directory it creates, so new YYYY/MM/DD levels survive a crash.
// Entries created inside `dir` are the caller's to sync.
[[nodiscard]] absl::Status MakeDirsDurably(const std::string& dir);

}  // namespace portcullis::recorder
