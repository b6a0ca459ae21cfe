#pragma once
// Builders of SFTP v3 packets for tests (length prefix included).

#include <cstdint>
#include <string>
#include <string_view>

#include "agentless/ssh/sftp_wire.h"
#include "broker/common/bounded_reader.h"

namespace portcullis::ssh::testpk {

inline std::string Wrap(const WireWriter& body) {
  WireWriter w;
  w.String(body.data());
  return w.Take();
}
inline std::string Init(uint32_t version = 3) {
  return Wrap(WireWriter().U8(sftp::kInit).U32(version));
}
inline std::string Version(uint32_t version = 3) {
  return Wrap(WireWriter().U8(sftp::kVersion).U32(version).String("limits@openssh.com").String("1"));
}
inline std::string Open(uint32_t id, std::string_view path, uint32_t pflags) {
  return Wrap(WireWriter().U8(sftp::kOpen).U32(id).String(path).U32(pflags).U32(0));
}
inline std::string Handle(uint32_t id, std::string_view h) {
  return Wrap(WireWriter().U8(sftp::kHandle).U32(id).String(h));
}
inline std::string Read(uint32_t id, std::string_view h, uint64_t off, uint32_t len) {
  return Wrap(WireWriter().U8(sftp::kRead).U32(id).String(h).U64(off).U32(len));
}
inline std::string Data(uint32_t id, std::string_view bytes) {
  return Wrap(WireWriter().U8(sftp::kData).U32(id).String(bytes));
}
inline std::string Write(uint32_t id, std::string_view h, uint64_t off, std::string_view bytes) {
  return Wrap(WireWriter().U8(sftp::kWrite).U32(id).String(h).U64(off).String(bytes));
}
inline std::string Close(uint32_t id, std::string_view h) {
  return Wrap(WireWriter().U8(sftp::kClose).U32(id).String(h));
}
inline std::string Status(uint32_t id, uint32_t code) {
  return Wrap(WireWriter().U8(sftp::kStatus).U32(id).U32(code).String("").String(""));
}
inline std::string PathOp(uint8_t type, uint32_t id, std::string_view path) {
  return Wrap(WireWriter().U8(type).U32(id).String(path));
}
inline std::string TwoPathOp(uint8_t type, uint32_t id, std::string_view a, std::string_view b) {
  return Wrap(WireWriter().U8(type).U32(id).String(a).String(b));
}
inline std::string AttrsOp(uint8_t type, uint32_t id, std::string_view path) {
  // ATTRS with size + permissions set.
  return Wrap(WireWriter().U8(type).U32(id).String(path).U32(0x5).U64(0).U32(0755));
}
inline std::string Extended(uint32_t id, std::string_view name, std::string_view a, std::string_view b) {
  return Wrap(WireWriter().U8(sftp::kExtended).U32(id).String(name).String(a).String(b));
}

}  // namespace portcullis::ssh::testpk
