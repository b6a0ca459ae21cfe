#pragma once
// The SFTP requests a relay may refuse, as the SftpAuditor presents them to
// its policy callback, and a ready-made policy for a role's `file_transfer`
// setting (none | download | upload | both). Pure values and functions,
// thread-safe.

#include <cstdint>
#include <functional>
#include <string_view>

namespace portcullis::ssh {

enum class SftpRequestKind {
  kOpen,
  kRemove,
  kRename,    // RENAME and posix-rename@openssh.com
  kMkdir,
  kRmdir,
  kSetstat,   // SETSTAT, FSETSTAT, lsetstat@openssh.com
  kSymlink,
  kHardlink,  // hardlink@openssh.com
  kCopyData,  // copy-data (server-side copy between two open handles)
  kReadOnlyExtension,  // statvfs, fstatvfs, limits, expand-path, home-directory, fsync...
  kUnknownExtension,   // any other EXTENDED request
};
const char* SftpRequestKindName(SftpRequestKind kind);

// A client request the policy callback must decide. Views are valid only
// during the callback.
struct SftpRequest {
  SftpRequestKind kind = SftpRequestKind::kOpen;
  uint32_t id = 0;
  // Raw bytes as sent (not necessarily UTF-8). FSETSTAT: the opened file's
  // path; copy-data: the source file; extensions: the extension name.
  std::string_view path;
  std::string_view path2;  // rename/symlink/hardlink target, copy-data destination
  uint32_t pflags = 0;     // kOpen only

  // kOpen whose file content can be read. Note OpenSSH opens read-only when
  // neither READ nor WRITE is set, so pflags 0 reads too.
  bool ReadsContent() const;
  // kOpen that can create, truncate or write the file.
  bool WritesContent() const;
  // Changes the target's file system (writing open, remove, rename, ...).
  // Unknown extensions count as modifying.
  bool ModifiesTarget() const;
};

// A policy for a role's `file_transfer` setting: downloads need
// allow_download, anything that modifies the target needs allow_upload,
// unknown extensions are always refused (they could move bytes unaudited).
// Directory listings and STAT are not policy requests: for `none` the relay
// should refuse the sftp subsystem (and scp) altogether.
std::function<bool(const SftpRequest&)> SftpTransferPolicy(bool allow_download, bool allow_upload);

// True for EXTENDED requests known not to change the target or move file
// content (statvfs, fstatvfs, limits, expand-path, home-directory, fsync,
// users-groups-by-id).
bool IsReadOnlySftpExtension(std::string_view name);

}  // namespace portcullis::ssh
