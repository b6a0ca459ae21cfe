#pragma once
// Audit events produced by the SFTP and SCP auditors (one per transferred
// file, one per file-system operation). Plain values; thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>

namespace portcullis::ssh {

enum class FileDirection {
  kDownload,  // target -> client
  kUpload,    // client -> target
};

// "download" / "upload".
const char* FileDirectionName(FileDirection d);

// One file's bytes crossing the relay.
struct FileTransferEvent {
  std::string path;  // as named on the target, made displayable (see DisplayPath)
  FileDirection direction = FileDirection::kDownload;
  uint64_t size = 0;       // payload bytes transferred (re-sent ranges count twice)
  std::string sha256_hex;  // lowercase hex of the bytes in offset order; "" if !complete
  // True iff every transferred byte formed one run from offset 0, was hashed
  // in order and the transfer ended normally (CLOSE answered / SCP acked).
  bool complete = false;
  std::string incomplete_reason;  // why complete == false ("" otherwise)
  std::string raw_path;           // `path` raw (see AuditPath)
  // SCP: the command's path when it is a shell pattern (raw, see AuditPath), else "".
  std::string pattern;
};

// A file-system change requested through SFTP. The event reports the
// request as forwarded to the target, not whether the target succeeded.
struct FileOpEvent {
  // "remove", "rename", "mkdir", "rmdir", "setstat", "symlink", "hardlink",
  // "copy-data".
  std::string op;
  std::string path;   // displayable (see DisplayPath)
  std::string path2;  // rename/symlink/hardlink/copy-data second path, else ""
  std::string raw_path, raw_path2;  // `path`, `path2` raw (see AuditPath)
};

inline constexpr size_t kMaxDisplayPathInput = 4096;

// Makes a path received from the wire safe to log and to put in JSON, in a
// reversible form (DisplayText's kReversible: valid UTF-8 is kept, a
// backslash becomes "\\", bytes that are not valid UTF-8 and ASCII controls
// become "\xNN", the other disguising code points such as U+202E "\uXXXX").
// Capped at kMaxDisplayPathInput input bytes ("..." after).
std::string DisplayPath(std::string_view raw);

// The raw path as it goes into an audit row (its first
// kMaxDisplayPathInput bytes): the audit log itself writes the display form
// and, when that differs, the raw bytes in hex next to it.
std::string AuditPath(std::string_view raw);

}  // namespace portcullis::ssh
