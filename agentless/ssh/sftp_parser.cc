#include "agentless/ssh/sftp_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "broker/common/absl_fmt.h"
#include "broker/common/bounded_reader.h"
#include "broker/common/status_macros.h"

namespace portcullis::ssh {
namespace {

constexpr size_t kMaxExtensionName = 256;
constexpr char kDeniedMessage[] = "Permission denied by Portcullis policy";
constexpr char kUnusableHandle[] = "unknown handle or handle being closed";

void Refuse(uint32_t id, uint32_t code, std::string_view msg, std::string* reply) {
  reply->append(sftp::BuildStatusPacket(id, code, msg));
}

absl::Status Malformed(const char* what, const absl::Status& s) {
  return absl::InvalidArgumentError(fmt::format("malformed {}: {}", what, s.message()));
}

}  // namespace

// `lhs = *expr` for a StatusOr-returning read; on failure returns
// "malformed <what>: <reason>" from the enclosing function.
#define PC_SFTP_READ(lhs, expr, what) \
  PC_SFTP_READ_IMPL_(PC_CONCAT_(pc_sftp_, __LINE__), lhs, expr, what)
#define PC_SFTP_READ_IMPL_(tmp, lhs, expr, what)         \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return Malformed(what, tmp.status());   \
  lhs = *tmp

SftpAuditor::SftpAuditor(Callbacks cb) : cb_(std::move(cb)) { budget_.limit = kReorderBudget; }

SftpAuditor::~SftpAuditor() = default;

absl::Status SftpAuditor::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

RelayOutput SftpAuditor::Stopped() const {
  RelayOutput out;
  out.status = finished_ ? absl::FailedPreconditionError("SFTP auditor already finished") : status_;
  return out;
}

RelayOutput SftpAuditor::FeedClientToServer(std::string_view bytes) {
  if (finished_ || !status_.ok()) return Stopped();
  RelayOutput out;
  replies_.clear();
  from_client_.Feed(bytes);
  for (;;) {
    std::string_view packet;
    auto more = from_client_.Next(&packet);
    if (more.ok() && !*more) break;
    auto forward = more.ok() ? OnClientPacket(packet.substr(4), &replies_) : absl::StatusOr<bool>(more.status());
    if (!forward.ok()) {
      out.status = Fail(absl::InvalidArgumentError(fmt::format("SFTP from client: {}", forward.status().message())));
      break;
    }
    if (*forward) out.to_server.push_back(packet);
  }
  if (!replies_.empty()) out.to_client.push_back(replies_);
  return out;
}

RelayOutput SftpAuditor::FeedServerToClient(std::string_view bytes) {
  if (finished_ || !status_.ok()) return Stopped();
  RelayOutput out;
  from_server_.Feed(bytes);
  for (;;) {
    std::string_view packet;
    auto more = from_server_.Next(&packet);
    if (more.ok() && !*more) break;
    absl::Status s = more.ok() ? OnServerPacket(packet.substr(4)) : more.status();
    if (!s.ok()) {
      out.status = Fail(absl::InvalidArgumentError(fmt::format("SFTP from target: {}", s.message())));
      break;
    }
    out.to_client.push_back(packet);
  }
  return out;
}

bool SftpAuditor::Allowed(const SftpRequest& req, std::string* reply) {
  if (!cb_.allow || cb_.allow(req)) return true;
  Refuse(req.id, sftp::kFxPermissionDenied, kDeniedMessage, reply);
  return false;
}

bool SftpAuditor::CanTrack(uint32_t id, std::string* reply) {
  if (pending_.count(id) != 0) {
    Refuse(id, sftp::kFxFailure, "request id already in flight", reply);
    return false;
  }
  if (pending_.size() >= kMaxInFlight) {
    Refuse(id, sftp::kFxFailure, "too many requests in flight", reply);
    return false;
  }
  return true;
}

SftpAuditor::OpenFile* SftpAuditor::FindFile(std::string_view handle, uint64_t serial) {
  auto it = files_.find(std::string(handle));
  if (it == files_.end()) return nullptr;
  if (serial != 0 && it->second->serial != serial) return nullptr;
  return it->second.get();
}

SftpAuditor::OpenFile* SftpAuditor::UsableFile(std::string_view handle) {
  OpenFile* f = FindFile(handle);
  return f != nullptr && !f->close_requested ? f : nullptr;
}

void SftpAuditor::EmitOp(const char* op, std::string_view path, std::string_view path2) {
  if (cb_.on_op)
    cb_.on_op(FileOpEvent{op, DisplayPath(path), DisplayPath(path2), AuditPath(path),
                          AuditPath(path2)});
}

absl::StatusOr<bool> SftpAuditor::OnClientPacket(std::string_view body, std::string* reply) {
  BoundedReader r(body, sftp::kMaxPacketBody);
  uint8_t type;
  PC_SFTP_READ(type, r.U8(), "packet");
  if (!init_seen_) {
    if (type != sftp::kInit) {
      return absl::InvalidArgumentError(fmt::format("first packet is type {}, not INIT", type));
    }
    PC_SFTP_READ(client_version_, r.U32(), "INIT");
    if (client_version_ < 3) {
      return absl::InvalidArgumentError(
          fmt::format("client asks for SFTP version {}; only version 3 can be audited", client_version_));
    }
    init_seen_ = true;
    return true;
  }
  if (type == sftp::kInit) return absl::InvalidArgumentError("second INIT");
  if (type == sftp::kExtended || (type >= sftp::kOpen && type <= sftp::kSymlink)) {
    // Every request starts with its id.
  } else {
    return true;  // not a request the auditor knows: forwarded untouched
  }
  uint32_t id;
  PC_SFTP_READ(id, r.U32(), "request");

  std::string_view path, path2, handle;
  switch (type) {
    case sftp::kOpen: {
      uint32_t pflags;
      PC_SFTP_READ(path, sftp::ReadPath(r), "OPEN");
      PC_SFTP_READ(pflags, r.U32(), "OPEN");
      if (auto s = sftp::SkipAttrs(r); !s.ok()) return Malformed("OPEN", s);
      if (auto s = r.Finish(); !s.ok()) return Malformed("OPEN", s);
      if (!CanTrack(id, reply)) return false;
      if (files_.size() + pending_opens_ >= kMaxOpenFiles) {
        Refuse(id, sftp::kFxFailure, "too many open files", reply);
        return false;
      }
      SftpRequest req{SftpRequestKind::kOpen, id, path, {}, pflags};
      if (!Allowed(req, reply)) return false;
      pending_.emplace(id, Pending{sftp::kOpen, std::string(path), 0, 0, pflags});
      ++pending_opens_;
      return true;
    }
    case sftp::kClose: {
      PC_SFTP_READ(handle, r.String(sftp::kMaxHandleLen), "CLOSE");
      if (auto s = r.Finish(); !s.ok()) return Malformed("CLOSE", s);
      OpenFile* f = FindFile(handle);
      if (f == nullptr || f->close_requested) return true;  // e.g. a directory handle
      if (!CanTrack(id, reply)) return false;
      f->close_requested = true;
      pending_.emplace(id, Pending{sftp::kClose, std::string(handle), f->serial, 0, 0});
      return true;
    }
    case sftp::kRead: {
      uint64_t offset;
      uint32_t len;
      PC_SFTP_READ(handle, r.String(sftp::kMaxHandleLen), "READ");
      PC_SFTP_READ(offset, r.U64(), "READ");
      PC_SFTP_READ(len, r.U32(), "READ");
      (void)len;
      if (auto s = r.Finish(); !s.ok()) return Malformed("READ", s);
      OpenFile* f = UsableFile(handle);
      if (f == nullptr) {
        Refuse(id, sftp::kFxFailure, kUnusableHandle, reply);
        return false;
      }
      if (!CanTrack(id, reply)) return false;
      pending_.emplace(id, Pending{sftp::kRead, std::string(handle), f->serial, offset, 0});
      return true;
    }
    case sftp::kWrite: {
      uint64_t offset;
      std::string_view data;
      PC_SFTP_READ(handle, r.String(sftp::kMaxHandleLen), "WRITE");
      PC_SFTP_READ(offset, r.U64(), "WRITE");
      PC_SFTP_READ(data, r.String(sftp::kMaxPacketBody), "WRITE");
      if (auto s = r.Finish(); !s.ok()) return Malformed("WRITE", s);
      OpenFile* f = UsableFile(handle);
      if (f == nullptr) {
        Refuse(id, sftp::kFxFailure, kUnusableHandle, reply);
        return false;
      }
      if (!CanTrack(id, reply)) return false;
      if (!f->upload) f->upload = std::make_unique<OffsetOrderedHash>(&budget_);
      f->upload->Add(offset, data);
      pending_.emplace(id, Pending{sftp::kWrite, std::string(handle), f->serial, offset, 0});
      return true;
    }
    case sftp::kSetstat:
    case sftp::kMkdir: {
      const bool mkdir = type == sftp::kMkdir;
      PC_SFTP_READ(path, sftp::ReadPath(r), mkdir ? "MKDIR" : "SETSTAT");
      if (auto s = sftp::SkipAttrs(r); !s.ok()) return Malformed(mkdir ? "MKDIR" : "SETSTAT", s);
      if (auto s = r.Finish(); !s.ok()) return Malformed(mkdir ? "MKDIR" : "SETSTAT", s);
      SftpRequest req{mkdir ? SftpRequestKind::kMkdir : SftpRequestKind::kSetstat, id, path, {}, 0};
      if (!Allowed(req, reply)) return false;
      EmitOp(mkdir ? "mkdir" : "setstat", path, {});
      return true;
    }
    case sftp::kFsetstat: {
      PC_SFTP_READ(handle, r.String(sftp::kMaxHandleLen), "FSETSTAT");
      if (auto s = sftp::SkipAttrs(r); !s.ok()) return Malformed("FSETSTAT", s);
      if (auto s = r.Finish(); !s.ok()) return Malformed("FSETSTAT", s);
      OpenFile* f = UsableFile(handle);
      if (f == nullptr) {
        Refuse(id, sftp::kFxFailure, kUnusableHandle, reply);
        return false;
      }
      SftpRequest req{SftpRequestKind::kSetstat, id, f->path, {}, 0};
      if (!Allowed(req, reply)) return false;
      EmitOp("setstat", f->path, {});
      return true;
    }
    case sftp::kRemove:
    case sftp::kRmdir: {
      const bool rmdir = type == sftp::kRmdir;
      PC_SFTP_READ(path, sftp::ReadPath(r), rmdir ? "RMDIR" : "REMOVE");
      if (auto s = r.Finish(); !s.ok()) return Malformed(rmdir ? "RMDIR" : "REMOVE", s);
      SftpRequest req{rmdir ? SftpRequestKind::kRmdir : SftpRequestKind::kRemove, id, path, {}, 0};
      if (!Allowed(req, reply)) return false;
      EmitOp(rmdir ? "rmdir" : "remove", path, {});
      return true;
    }
    case sftp::kRename:
    case sftp::kSymlink: {
      const bool symlink = type == sftp::kSymlink;
      const char* what = symlink ? "SYMLINK" : "RENAME";
      PC_SFTP_READ(path, sftp::ReadPath(r), what);
      PC_SFTP_READ(path2, sftp::ReadPath(r), what);
      if (auto s = r.Finish(); !s.ok()) return Malformed(what, s);
      SftpRequest req{symlink ? SftpRequestKind::kSymlink : SftpRequestKind::kRename, id, path, path2, 0};
      if (!Allowed(req, reply)) return false;
      EmitOp(symlink ? "symlink" : "rename", path, path2);
      return true;
    }
    case sftp::kExtended:
      return OnExtended(id, r, reply);
    default:
      return true;  // LSTAT, FSTAT, OPENDIR, READDIR, REALPATH, STAT, READLINK
  }
}

absl::StatusOr<bool> SftpAuditor::OnExtended(uint32_t id, BoundedReader& r, std::string* reply) {
  std::string_view name, path, path2;
  PC_SFTP_READ(name, r.String(kMaxExtensionName), "EXTENDED");
  if (name == "posix-rename@openssh.com" || name == "hardlink@openssh.com") {
    const bool rename = name == "posix-rename@openssh.com";
    PC_SFTP_READ(path, sftp::ReadPath(r), "EXTENDED");
    PC_SFTP_READ(path2, sftp::ReadPath(r), "EXTENDED");
    if (auto s = r.Finish(); !s.ok()) return Malformed("EXTENDED", s);
    SftpRequest req{rename ? SftpRequestKind::kRename : SftpRequestKind::kHardlink, id, path, path2, 0};
    if (!Allowed(req, reply)) return false;
    EmitOp(rename ? "rename" : "hardlink", path, path2);
    return true;
  }
  if (name == "lsetstat@openssh.com") {
    PC_SFTP_READ(path, sftp::ReadPath(r), "EXTENDED");
    if (auto s = sftp::SkipAttrs(r); !s.ok()) return Malformed("EXTENDED", s);
    if (auto s = r.Finish(); !s.ok()) return Malformed("EXTENDED", s);
    SftpRequest req{SftpRequestKind::kSetstat, id, path, {}, 0};
    if (!Allowed(req, reply)) return false;
    EmitOp("setstat", path, {});
    return true;
  }
  if (name == "copy-data") {
    std::string_view from_handle, to_handle;
    uint64_t u64;
    PC_SFTP_READ(from_handle, r.String(sftp::kMaxHandleLen), "copy-data");
    PC_SFTP_READ(u64, r.U64(), "copy-data");  // read offset
    PC_SFTP_READ(u64, r.U64(), "copy-data");  // read length
    PC_SFTP_READ(to_handle, r.String(sftp::kMaxHandleLen), "copy-data");
    PC_SFTP_READ(u64, r.U64(), "copy-data");  // write offset
    (void)u64;
    if (auto s = r.Finish(); !s.ok()) return Malformed("copy-data", s);
    OpenFile* from = UsableFile(from_handle);
    OpenFile* to = UsableFile(to_handle);
    if (from == nullptr || to == nullptr) {
      Refuse(id, sftp::kFxFailure, kUnusableHandle, reply);
      return false;
    }
    SftpRequest req{SftpRequestKind::kCopyData, id, from->path, to->path, 0};
    if (!Allowed(req, reply)) return false;
    if (!to->upload) to->upload = std::make_unique<OffsetOrderedHash>(&budget_);
    to->upload->MarkIncomplete("the target copied data into the file (copy-data)");
    EmitOp("copy-data", from->path, to->path);
    return true;
  }
  const auto kind = IsReadOnlySftpExtension(name) ? SftpRequestKind::kReadOnlyExtension
                                              : SftpRequestKind::kUnknownExtension;
  SftpRequest req{kind, id, name, {}, 0};
  return Allowed(req, reply);
}

absl::Status SftpAuditor::OnServerPacket(std::string_view body) {
  BoundedReader r(body, sftp::kMaxPacketBody);
  uint8_t type;
  PC_SFTP_READ(type, r.U8(), "packet");
  if (!version_seen_) {
    if (type != sftp::kVersion) {
      return absl::InvalidArgumentError(fmt::format("first packet is type {}, not VERSION", type));
    }
    if (!init_seen_) return absl::InvalidArgumentError("VERSION before the client's INIT");
    uint32_t version;
    PC_SFTP_READ(version, r.U32(), "VERSION");
    const uint32_t negotiated = std::min(version, client_version_);
    if (negotiated != 3) {
      return absl::InvalidArgumentError(
          fmt::format("SFTP version {} negotiated; only version 3 can be audited", negotiated));
    }
    version_seen_ = true;
    return absl::OkStatus();
  }
  uint32_t id;
  switch (type) {
    case sftp::kVersion:
      return absl::InvalidArgumentError("second VERSION");
    case sftp::kStatus: {
      uint32_t code;
      PC_SFTP_READ(id, r.U32(), "STATUS");
      PC_SFTP_READ(code, r.U32(), "STATUS");  // message and language tag are not needed
      OnResponse(id, type, code, {});
      return absl::OkStatus();
    }
    case sftp::kHandle: {
      std::string_view handle;
      PC_SFTP_READ(id, r.U32(), "HANDLE");
      PC_SFTP_READ(handle, r.String(sftp::kMaxHandleLen), "HANDLE");
      if (auto s = r.Finish(); !s.ok()) return Malformed("HANDLE", s);
      OnResponse(id, type, 0, handle);
      return absl::OkStatus();
    }
    case sftp::kData: {
      std::string_view data;
      PC_SFTP_READ(id, r.U32(), "DATA");
      PC_SFTP_READ(data, r.String(sftp::kMaxPacketBody), "DATA");
      if (auto s = r.Finish(); !s.ok()) return Malformed("DATA", s);
      return OnData(id, data);
    }
    case sftp::kName:
    case sftp::kAttrs:
    case sftp::kExtendedReply: {
      PC_SFTP_READ(id, r.U32(), "response");
      OnResponse(id, type, 0, {});
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();  // unknown message: forwarded untouched
  }
}

void SftpAuditor::OnResponse(uint32_t id, uint8_t type, uint32_t status_code, std::string_view payload) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // a request the auditor does not track
  Pending p = std::move(it->second);
  pending_.erase(it);
  switch (p.type) {
    case sftp::kOpen: {
      --pending_opens_;
      if (type != sftp::kHandle) return;  // the open failed
      std::string handle(payload);
      if (auto old = files_.find(handle); old != files_.end()) {
        EmitFile(*old->second, "the target reused the handle of a file still open");
        files_.erase(old);
      }
      auto f = std::make_unique<OpenFile>();
      f->serial = next_serial_++;
      f->path = std::move(p.handle_or_path);
      SftpRequest req{SftpRequestKind::kOpen, id, {}, {}, p.pflags};
      if (req.ReadsContent()) f->download = std::make_unique<OffsetOrderedHash>(&budget_);
      if (req.WritesContent()) f->upload = std::make_unique<OffsetOrderedHash>(&budget_);
      files_.emplace(std::move(handle), std::move(f));
      return;
    }
    case sftp::kWrite: {
      OpenFile* f = FindFile(p.handle_or_path, p.serial);
      if (f != nullptr && f->upload && (type != sftp::kStatus || status_code != sftp::kFxOk)) {
        f->upload->MarkIncomplete("the target refused a write");
      }
      return;
    }
    case sftp::kClose: {
      auto f = files_.find(p.handle_or_path);
      if (f == files_.end() || f->second->serial != p.serial) return;
      if ((type != sftp::kStatus || status_code != sftp::kFxOk) && f->second->upload) {
        f->second->upload->MarkIncomplete("the target reported an error on CLOSE");
      }
      EmitFile(*f->second, {});
      files_.erase(f);
      return;
    }
    default:
      return;  // a READ answered without data (EOF or error)
  }
}

absl::Status SftpAuditor::OnData(uint32_t id, std::string_view data) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.type != sftp::kRead) {
    return absl::InvalidArgumentError(fmt::format("DATA answers id {}, which is no pending READ", id));
  }
  Pending p = std::move(it->second);
  pending_.erase(it);
  OpenFile* f = FindFile(p.handle_or_path, p.serial);
  if (f == nullptr) return absl::InvalidArgumentError("DATA for a file that is no longer open");
  if (!f->download) f->download = std::make_unique<OffsetOrderedHash>(&budget_);
  f->download->Add(p.offset, data);
  return absl::OkStatus();
}

void SftpAuditor::EmitFile(OpenFile& f, std::string_view force_incomplete) {
  const std::pair<OffsetOrderedHash*, FileDirection> streams[] = {
      {f.download.get(), FileDirection::kDownload}, {f.upload.get(), FileDirection::kUpload}};
  for (const auto& [hash, direction] : streams) {
    if (hash == nullptr) continue;
    if (!force_incomplete.empty()) hash->MarkIncomplete(force_incomplete);
    hash->Finish();
    if (cb_.on_transfer) {
      cb_.on_transfer(FileTransferEvent{DisplayPath(f.path), direction, hash->bytes(), hash->sha256_hex(),
                                        hash->complete(), hash->incomplete_reason(),
                                        AuditPath(f.path), ""});
    }
  }
}

void SftpAuditor::Finish() {
  if (finished_) return;
  finished_ = true;
  std::vector<OpenFile*> open;
  open.reserve(files_.size());
  for (auto& [handle, f] : files_) open.push_back(f.get());
  std::sort(open.begin(), open.end(), [](const OpenFile* a, const OpenFile* b) { return a->serial < b->serial; });
  for (OpenFile* f : open) {
    std::string reason;
    if (!status_.ok()) {
      reason = fmt::format("auditing stopped: {}", status_.message());
    } else if (f->close_requested) {
      reason = "session ended before the target answered CLOSE";
    } else {
      reason = "session ended before the file was closed";
    }
    EmitFile(*f, reason);
  }
  files_.clear();
  pending_.clear();
  pending_opens_ = 0;
}

}  // namespace portcullis::ssh
