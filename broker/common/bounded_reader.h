#pragma once
// BoundedReader: the one way Portcullis reads untrusted binary input
// (SSH wire format, SFTP packets, RFB messages, recording frames).
// Every getter returns a status; nothing reads past the end; strings are
// length-prefixed and capped; Finish() refuses trailing bytes. The reader
// does not own the buffer, which must outlive it. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis {

class BoundedReader {
 public:
  // Refuses (at the first read) input larger than `max_total`.
  explicit BoundedReader(std::string_view data, size_t max_total = 1 << 20);

  [[nodiscard]] absl::StatusOr<uint8_t> U8();
  [[nodiscard]] absl::StatusOr<uint32_t> U32();  // big-endian
  [[nodiscard]] absl::StatusOr<uint64_t> U64();  // big-endian
  [[nodiscard]] absl::StatusOr<bool> Bool();     // SSH boolean
  // Fixed number of raw bytes.
  [[nodiscard]] absl::StatusOr<std::string_view> Bytes(size_t n);
  // SSH "string": uint32 length then bytes, length capped at `max_len`.
  [[nodiscard]] absl::StatusOr<std::string_view> String(size_t max_len = 65536);
  // Like String() but refuses embedded NUL bytes and requires valid UTF-8.
  [[nodiscard]] absl::StatusOr<std::string_view> Text(size_t max_len = 65536);

  size_t remaining() const { return size_ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  // OK iff every byte was consumed.
  [[nodiscard]] absl::Status Finish() const;

 private:
  absl::Status Need(size_t n) const;
  std::string_view data_;
  size_t pos_ = 0;
  bool size_ok_;
};

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);

// WireWriter: builds SSH wire-format byte strings. Not thread-safe.
class WireWriter {
 public:
  WireWriter& U8(uint8_t v);
  WireWriter& U32(uint32_t v);
  WireWriter& U64(uint64_t v);
  WireWriter& Bool(bool v) { return U8(v ? 1 : 0); }
  WireWriter& Raw(std::string_view bytes);
  WireWriter& String(std::string_view bytes);  // uint32 length + bytes
  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace portcullis
