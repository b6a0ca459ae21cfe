#include "broker/common/bounded_reader.h"

namespace portcullis {

BoundedReader::BoundedReader(std::string_view data, size_t max_total)
    : data_(data), size_ok_(data.size() <= max_total) {}

absl::Status BoundedReader::Need(size_t n) const {
  if (!size_ok_) return absl::InvalidArgumentError("input exceeds size limit");
  if (n > data_.size() - pos_) {
    return absl::OutOfRangeError("truncated input");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint8_t> BoundedReader::U8() {
  if (auto s = Need(1); !s.ok()) return s;
  return static_cast<uint8_t>(data_[pos_++]);
}

absl::StatusOr<uint32_t> BoundedReader::U32() {
  if (auto s = Need(4); !s.ok()) return s;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_++]);
  return v;
}

absl::StatusOr<uint64_t> BoundedReader::U64() {
  if (auto s = Need(8); !s.ok()) return s;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_++]);
  return v;
}

absl::StatusOr<bool> BoundedReader::Bool() {
  auto v = U8();
  if (!v.ok()) return v.status();
  return *v != 0;
}

absl::StatusOr<std::string_view> BoundedReader::Bytes(size_t n) {
  if (auto s = Need(n); !s.ok()) return s;
  std::string_view out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}

absl::StatusOr<std::string_view> BoundedReader::String(size_t max_len) {
  size_t start = pos_;
  auto len = U32();
  if (!len.ok()) return len.status();
  if (*len > max_len) {
    pos_ = start;
    return absl::InvalidArgumentError("string field exceeds limit");
  }
  auto out = Bytes(*len);
  if (!out.ok()) pos_ = start;
  return out;
}

absl::StatusOr<std::string_view> BoundedReader::Text(size_t max_len) {
  size_t start = pos_;
  auto s = String(max_len);
  if (!s.ok()) return s;
  if (s->find('\0') != std::string_view::npos) {
    pos_ = start;
    return absl::InvalidArgumentError("embedded NUL in text field");
  }
  if (!IsValidUtf8(*s)) {
    pos_ = start;
    return absl::InvalidArgumentError("text field is not UTF-8");
  }
  return s;
}

absl::Status BoundedReader::Finish() const {
  if (!size_ok_) return absl::InvalidArgumentError("input exceeds size limit");
  if (pos_ != data_.size()) {
    return absl::InvalidArgumentError("trailing bytes after message");
  }
  return absl::OkStatus();
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

WireWriter& WireWriter::U8(uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}
WireWriter& WireWriter::U32(uint32_t v) {
  for (int i = 3; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return *this;
}
WireWriter& WireWriter::U64(uint64_t v) {
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return *this;
}
WireWriter& WireWriter::Raw(std::string_view bytes) {
  out_.append(bytes);
  return *this;
}
WireWriter& WireWriter::String(std::string_view bytes) {
  U32(static_cast<uint32_t>(bytes.size()));
  return Raw(bytes);
}

}  // namespace portcullis
