#include "agentless/ssh/sftp_wire.h"

#include <fmt/format.h>

#include <algorithm>

namespace portcullis::ssh::sftp {
namespace {

constexpr uint32_t kAttrSize = 0x00000001;
constexpr uint32_t kAttrUidGid = 0x00000002;
constexpr uint32_t kAttrPermissions = 0x00000004;
constexpr uint32_t kAttrAcModTime = 0x00000008;
constexpr uint32_t kAttrExtended = 0x80000000;
constexpr uint32_t kMaxAttrExtensions = 256;

uint32_t BigEndian32(std::string_view four) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(four[i]);
  return v;
}

}  // namespace

std::string BuildStatusPacket(uint32_t id, uint32_t code, std::string_view msg) {
  WireWriter body;
  body.U8(kStatus).U32(id).U32(code).String(msg).String("");
  WireWriter packet;
  packet.String(body.data());
  return packet.Take();
}

absl::Status SkipAttrs(BoundedReader& r) {
  auto flags = r.U32();
  if (!flags.ok()) return flags.status();
  if (*flags & kAttrSize) {
    if (auto v = r.U64(); !v.ok()) return v.status();
  }
  if (*flags & kAttrUidGid) {
    if (auto v = r.Bytes(8); !v.ok()) return v.status();
  }
  if (*flags & kAttrPermissions) {
    if (auto v = r.U32(); !v.ok()) return v.status();
  }
  if (*flags & kAttrAcModTime) {
    if (auto v = r.Bytes(8); !v.ok()) return v.status();
  }
  if (*flags & kAttrExtended) {
    auto count = r.U32();
    if (!count.ok()) return count.status();
    if (*count > kMaxAttrExtensions) return absl::InvalidArgumentError("too many attribute extensions");
    for (uint32_t i = 0; i < *count; ++i) {
      if (auto v = r.String(kMaxPacketBody); !v.ok()) return v.status();
      if (auto v = r.String(kMaxPacketBody); !v.ok()) return v.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> ReadPath(BoundedReader& r) {
  auto path = r.String(kMaxPathLen);
  if (!path.ok()) return path.status();
  if (path->find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("embedded NUL in SFTP path");
  }
  return path;
}

void SftpFramer::Feed(std::string_view bytes) { input_ = bytes; }

absl::Status SftpFramer::CheckLength(std::string_view header) {
  const uint32_t len = BigEndian32(header);
  if (len == 0 || len > kMaxPacketBody) {
    status_ = absl::InvalidArgumentError(
        fmt::format("SFTP packet length {} out of range (1..{})", len, kMaxPacketBody));
  }
  return status_;
}

absl::StatusOr<bool> SftpFramer::Next(std::string_view* packet) {
  if (!status_.ok()) return status_;
  if (!partial_.empty()) {
    if (partial_.size() < 4) {
      const size_t take = std::min(4 - partial_.size(), input_.size());
      partial_.append(input_.substr(0, take));
      input_.remove_prefix(take);
      if (partial_.size() < 4) return false;
    }
    if (auto s = CheckLength(partial_); !s.ok()) return s;
    const size_t total = 4 + static_cast<size_t>(BigEndian32(partial_));
    partial_.reserve(total);
    const size_t take = std::min(total - partial_.size(), input_.size());
    partial_.append(input_.substr(0, take));
    input_.remove_prefix(take);
    if (partial_.size() < total) return false;
    joined_.swap(partial_);
    partial_.clear();
    *packet = joined_;
    return true;
  }
  if (input_.empty()) return false;
  if (input_.size() >= 4) {
    if (auto s = CheckLength(input_); !s.ok()) return s;
    const size_t total = 4 + static_cast<size_t>(BigEndian32(input_));
    if (input_.size() >= total) {
      *packet = input_.substr(0, total);
      input_.remove_prefix(total);
      return true;
    }
  }
  partial_.assign(input_);
  input_ = {};
  return false;
}

}  // namespace portcullis::ssh::sftp
