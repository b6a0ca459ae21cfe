#include "agentless/ssh/sftp_policy.h"

#include <algorithm>
#include <iterator>

#include "agentless/ssh/sftp_wire.h"

namespace portcullis::ssh {

const char* SftpRequestKindName(SftpRequestKind kind) {
  switch (kind) {
    case SftpRequestKind::kOpen: return "open";
    case SftpRequestKind::kRemove: return "remove";
    case SftpRequestKind::kRename: return "rename";
    case SftpRequestKind::kMkdir: return "mkdir";
    case SftpRequestKind::kRmdir: return "rmdir";
    case SftpRequestKind::kSetstat: return "setstat";
    case SftpRequestKind::kSymlink: return "symlink";
    case SftpRequestKind::kHardlink: return "hardlink";
    case SftpRequestKind::kCopyData: return "copy-data";
    case SftpRequestKind::kReadOnlyExtension: return "read-only-extension";
    case SftpRequestKind::kUnknownExtension: return "unknown-extension";
  }
  return "unknown";
}

bool SftpRequest::ReadsContent() const {
  return kind == SftpRequestKind::kOpen &&
         ((pflags & sftp::kFxfRead) != 0 || (pflags & sftp::kFxfWrite) == 0);
}

bool SftpRequest::WritesContent() const {
  return kind == SftpRequestKind::kOpen &&
         (pflags & (sftp::kFxfWrite | sftp::kFxfAppend | sftp::kFxfCreat | sftp::kFxfTrunc)) != 0;
}

bool SftpRequest::ModifiesTarget() const {
  switch (kind) {
    case SftpRequestKind::kOpen: return WritesContent();
    case SftpRequestKind::kReadOnlyExtension: return false;
    default: return true;
  }
}

std::function<bool(const SftpRequest&)> SftpTransferPolicy(bool allow_download, bool allow_upload) {
  return [allow_download, allow_upload](const SftpRequest& r) {
    switch (r.kind) {
      case SftpRequestKind::kOpen:
        return (!r.ReadsContent() || allow_download) && (!r.WritesContent() || allow_upload);
      case SftpRequestKind::kReadOnlyExtension: return true;
      case SftpRequestKind::kUnknownExtension: return false;
      default: return allow_upload;
    }
  };
}

bool IsReadOnlySftpExtension(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "statvfs@openssh.com", "fstatvfs@openssh.com", "limits@openssh.com",
      "expand-path@openssh.com", "home-directory", "users-groups-by-id@openssh.com",
      "fsync@openssh.com"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

}  // namespace portcullis::ssh
