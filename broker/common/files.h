#pragma once
// Small filesystem helpers with explicit modes and size caps. Thread-safe
// (they share no state), but concurrent writers to one path race.

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis {

// Reads a whole file, refusing files larger than `max_size`.
[[nodiscard]] absl::StatusOr<std::string> ReadFileBounded(const std::string& path,
                                                          size_t max_size);
// Writes `data` to `path` atomically (temp file + fsync + rename) with `mode`.
// With `exclusive`, fails if `path` already exists.
[[nodiscard]] absl::Status WriteFileAtomic(const std::string& path, std::string_view data,
                                           mode_t mode, bool exclusive = false);
// mkdir -p with `mode` for the directories it creates.
[[nodiscard]] absl::Status MakeDirs(const std::string& path, mode_t mode);
bool PathExists(const std::string& path);

}  // namespace portcullis
