#pragma once
// SFTP v3 wire format (draft-ietf-secsh-filexfer-02, as spoken by OpenSSH's
// sftp-server): message numbers, open flags, status codes, the packet framer
// that cuts a byte stream into whole packets, and small encoders/decoders.
// Pure functions are thread-safe; SftpFramer is not.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/bounded_reader.h"

namespace portcullis::ssh::sftp {

// Message types.
inline constexpr uint8_t kInit = 1;
inline constexpr uint8_t kVersion = 2;
inline constexpr uint8_t kOpen = 3;
inline constexpr uint8_t kClose = 4;
inline constexpr uint8_t kRead = 5;
inline constexpr uint8_t kWrite = 6;
inline constexpr uint8_t kLstat = 7;
inline constexpr uint8_t kFstat = 8;
inline constexpr uint8_t kSetstat = 9;
inline constexpr uint8_t kFsetstat = 10;
inline constexpr uint8_t kOpendir = 11;
inline constexpr uint8_t kReaddir = 12;
inline constexpr uint8_t kRemove = 13;
inline constexpr uint8_t kMkdir = 14;
inline constexpr uint8_t kRmdir = 15;
inline constexpr uint8_t kRealpath = 16;
inline constexpr uint8_t kStat = 17;
inline constexpr uint8_t kRename = 18;
inline constexpr uint8_t kReadlink = 19;
inline constexpr uint8_t kSymlink = 20;
inline constexpr uint8_t kStatus = 101;
inline constexpr uint8_t kHandle = 102;
inline constexpr uint8_t kData = 103;
inline constexpr uint8_t kName = 104;
inline constexpr uint8_t kAttrs = 105;
inline constexpr uint8_t kExtended = 200;
inline constexpr uint8_t kExtendedReply = 201;

// OPEN pflags.
inline constexpr uint32_t kFxfRead = 0x01;
inline constexpr uint32_t kFxfWrite = 0x02;
inline constexpr uint32_t kFxfAppend = 0x04;
inline constexpr uint32_t kFxfCreat = 0x08;
inline constexpr uint32_t kFxfTrunc = 0x10;
inline constexpr uint32_t kFxfExcl = 0x20;

// STATUS codes.
inline constexpr uint32_t kFxOk = 0;
inline constexpr uint32_t kFxEof = 1;
inline constexpr uint32_t kFxNoSuchFile = 2;
inline constexpr uint32_t kFxPermissionDenied = 3;
inline constexpr uint32_t kFxFailure = 4;
inline constexpr uint32_t kFxBadMessage = 5;
inline constexpr uint32_t kFxOpUnsupported = 8;

// Largest packet body (the uint32 length field) accepted: OpenSSH refuses
// anything above 256 KiB; 1 KiB more leaves room for other implementations'
// headers around a 256 KiB payload.
inline constexpr size_t kMaxPacketBody = 256 * 1024 + 1024;
// Caps on fields inside packets.
inline constexpr size_t kMaxPathLen = 16 * 1024;
inline constexpr size_t kMaxHandleLen = 256;  // the draft's limit

// A complete SSH_FXP_STATUS packet (length prefix included) answering
// request `id`, with an English message and an empty language tag.
std::string BuildStatusPacket(uint32_t id, uint32_t code, std::string_view msg);

// Reads (and discards) an ATTRS structure; fails on truncation.
[[nodiscard]] absl::Status SkipAttrs(BoundedReader& r);

// Reads an SFTP path: a string of at most kMaxPathLen bytes without NUL.
// (SFTP v3 file names are bytes, not necessarily UTF-8.)
[[nodiscard]] absl::StatusOr<std::string_view> ReadPath(BoundedReader& r);

// Cuts a byte stream, fed in arbitrary chunks, into whole packets (uint32
// length, then that many bytes). Holds at most one partial packet. A length
// of 0 or above kMaxPacketBody is an error, reported as soon as the length
// field is complete; after an error the framer stays failed.
class SftpFramer {
 public:
  // Starts a new chunk: `bytes` must outlive the Next() calls that follow,
  // which must run until Next() returns false or an error.
  void Feed(std::string_view bytes);
  // True and the next whole packet (length prefix included), or false when
  // the chunk is used up (its tail is then held). The view stays valid until
  // the next Feed() (it points into the chunk or into the framer).
  [[nodiscard]] absl::StatusOr<bool> Next(std::string_view* packet);
  // Bytes of an incomplete packet held between chunks.
  size_t buffered() const { return partial_.size(); }

 private:
  absl::Status CheckLength(std::string_view header);

  std::string_view input_;
  std::string partial_;  // prefix of a packet that straddles chunks
  std::string joined_;   // last packet completed from partial_ + chunk
  absl::Status status_;
};

}  // namespace portcullis::ssh::sftp
