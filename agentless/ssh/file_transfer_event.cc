#include "agentless/ssh/file_transfer_event.h"

#include <fmt/format.h>

#include "broker/common/bounded_reader.h"

namespace portcullis::ssh {

const char* FileDirectionName(FileDirection d) {
  return d == FileDirection::kUpload ? "upload" : "download";
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<uint8_t>(s[i]);
  size_t len = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  return IsValidUtf8(s.substr(i, len)) ? len : 0;
}

}  // namespace

std::string DisplayPath(std::string_view raw) {
  constexpr size_t kMaxInput = 4096;
  const bool cut = raw.size() > kMaxInput;
  if (cut) raw = raw.substr(0, kMaxInput);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    const auto c = static_cast<uint8_t>(raw[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t n = c >= 0x80 ? Utf8SequenceLength(raw, i) : 0; n > 0) {
      out.append(raw.substr(i, n));
      i += n;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace portcullis::ssh
