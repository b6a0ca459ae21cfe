#pragma once
// SftpAuditor: watches an SFTP v3 session relayed between a client and a
// target (both byte streams, fed in arbitrary chunks) and
//  * emits one FileTransferEvent per direction per opened file (path, size,
//    SHA-256 of the bytes in offset order) when the target answers its CLOSE;
//    WRITE data is hashed as it is forwarded, READ data as the DATA answers
//    come back; a refused WRITE or CLOSE makes the upload incomplete;
//  * emits a FileOpEvent for remove / rename / mkdir / rmdir / setstat /
//    symlink / hardlink / copy-data requests as they are forwarded;
//  * asks a policy callback about every request that opens a file or changes
//    the target's file system (see sftp_policy.h), so the relay can refuse it.
//
// Relay contract (see relay_output.h): feed every byte read from the client
// to FeedClientToServer() and every byte read from the target to
// FeedServerToClient(), in the order read, and write out exactly the bytes
// returned. Only whole packets are returned (a partial one is held until it
// is complete), so the STATUS replies the auditor writes for refused requests
// (in to_client) never land inside a target packet. On a bad status: deliver
// what was returned (the packets before the fault), close the session, call
// Finish(). Events only ever describe packets that were returned.
//
// Requests the auditor refuses by itself, answering with a STATUS instead of
// forwarding: READ/WRITE/FSETSTAT/copy-data on a handle the target has not
// returned for an OPEN of this session, or whose CLOSE was already sent (the
// target may give the same handle to the next OPEN) -- so no byte can bypass
// the hash or be counted for the wrong file; a tracked request reusing an id
// still in flight; going over the caps on requests in flight (65536) or open
// files (4096).
//
// Bounded memory: one partial packet per direction (<= 4 + kMaxPacketBody),
// out-of-order data <= 8 MiB per file and 64 MiB per session (beyond that the
// file's hash is reported incomplete), plus the caps above.
//
// Not thread-safe: owned by the session's thread. Callbacks run synchronously
// inside Feed*/Finish and must not call back into the auditor.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agentless/ssh/file_transfer_event.h"
#include "agentless/ssh/offset_ordered_hash.h"
#include "agentless/ssh/relay_output.h"
#include "agentless/ssh/sftp_policy.h"
#include "agentless/ssh/sftp_wire.h"

namespace portcullis::ssh {

// BuildStatusPacket(id, code, msg): the STATUS packet for a refused request
// (see sftp_wire.h for the codes, e.g. sftp::kFxPermissionDenied).
using sftp::BuildStatusPacket;

class SftpAuditor {
 public:
  struct Callbacks {
    std::function<void(const FileTransferEvent&)> on_transfer;
    std::function<void(const FileOpEvent&)> on_op;
    // Decides each request listed in SftpRequestKind before it is forwarded;
    // false = refuse with PERMISSION_DENIED. Empty = allow everything.
    std::function<bool(const SftpRequest&)> allow;
  };

  static constexpr size_t kMaxInFlight = 65536;
  static constexpr size_t kMaxOpenFiles = 4096;
  static constexpr size_t kReorderBudget = 64u << 20;

  explicit SftpAuditor(Callbacks cb);
  ~SftpAuditor();
  SftpAuditor(const SftpAuditor&) = delete;
  SftpAuditor& operator=(const SftpAuditor&) = delete;

  [[nodiscard]] RelayOutput FeedClientToServer(std::string_view bytes);
  [[nodiscard]] RelayOutput FeedServerToClient(std::string_view bytes);

  // The session ended (either side closed, or the relay gave up after an
  // error). Emits an event for every file still open, with complete = false
  // and no hash: without the target's answer to CLOSE the last bytes or a
  // failed write may be missing. The reason says which ("session ended
  // before the file was closed", "... before the target answered CLOSE",
  // "auditing stopped: ..."). Idempotent; Feed* calls fail afterwards.
  void Finish();

 private:
  // A file the target returned a handle for.
  struct OpenFile {
    uint64_t serial = 0;  // distinguishes handles the target reuses
    std::string path;     // raw
    std::unique_ptr<OffsetOrderedHash> download;  // bytes READ from the file
    std::unique_ptr<OffsetOrderedHash> upload;    // bytes WRITTEN to the file
    bool close_requested = false;
  };
  // A forwarded request whose answer the auditor needs.
  struct Pending {
    uint8_t type = 0;  // sftp::kOpen, kRead, kWrite or kClose
    std::string handle_or_path;
    uint64_t serial = 0;  // kRead/kWrite/kClose: the OpenFile's serial
    uint64_t offset = 0;  // kRead
    uint32_t pflags = 0;  // kOpen
  };

  absl::StatusOr<bool> OnClientPacket(std::string_view body, std::string* reply);
  absl::Status OnServerPacket(std::string_view body);
  absl::StatusOr<bool> OnExtended(uint32_t id, BoundedReader& r, std::string* reply);
  bool Allowed(const SftpRequest& req, std::string* reply);
  bool CanTrack(uint32_t id, std::string* reply);
  OpenFile* FindFile(std::string_view handle, uint64_t serial = 0);
  // The open file behind `handle` unless its CLOSE was already sent.
  OpenFile* UsableFile(std::string_view handle);
  void OnResponse(uint32_t id, uint8_t type, uint32_t status_code, std::string_view payload);
  absl::Status OnData(uint32_t id, std::string_view data);
  void EmitFile(OpenFile& f, std::string_view force_incomplete);
  void EmitOp(const char* op, std::string_view path, std::string_view path2);
  absl::Status Fail(absl::Status s);
  RelayOutput Stopped() const;

  Callbacks cb_;
  ReorderBudget budget_;  // before files_: the files' hashes point to it
  sftp::SftpFramer from_client_;
  sftp::SftpFramer from_server_;
  std::string replies_;  // STATUS packets for refused requests, this call
  bool init_seen_ = false;
  bool version_seen_ = false;
  uint32_t client_version_ = 0;
  bool finished_ = false;
  absl::Status status_;
  uint64_t next_serial_ = 1;
  size_t pending_opens_ = 0;
  std::unordered_map<uint32_t, Pending> pending_;                 // by request id
  std::unordered_map<std::string, std::unique_ptr<OpenFile>> files_;  // by handle
};

}  // namespace portcullis::ssh
