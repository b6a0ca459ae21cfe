#pragma once
// OutputFile: an export's destination, written under a temporary name in
// the same directory (".<name>.part.<pid>.<n>", mode 0600) and put in place
// only by Commit(), so a cancelled or failed export leaves no partial file.
// The destructor removes the temporary file unless committed.
// Thread-compatible.

#include <string>

#include "absl/status/status.h"

namespace portcullis::recorder {

class OutputFile {
 public:
  // `overwrite`: Commit() replaces an existing `path`; otherwise an
  // existing `path` is refused by Create() and by Commit().
  OutputFile(std::string path, bool overwrite);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Creates the temporary file (empty). InvalidArgument for an empty path
  // or a directory, AlreadyExists for an existing `path` without
  // `overwrite`, NotFound / PermissionDenied / Unavailable (with the
  // directory and errno text) when it cannot be created.
  [[nodiscard]] absl::Status Create();
  // The temporary file's path (valid after Create()).
  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }
  // fsyncs the temporary file and moves it to `path`, then syncs the
  // directory.
  [[nodiscard]] absl::Status Commit();
  // Removes the temporary file now (idempotent).
  void Discard();

 private:
  std::string path_, temp_;
  bool overwrite_;
  bool created_ = false, committed_ = false;
};

}  // namespace portcullis::recorder
