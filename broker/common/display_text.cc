#include "broker/common/display_text.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "broker/common/encoding.h"

namespace portcullis {
namespace {

// Decodes the UTF-8 sequence at s[i]: its length and code point, or 0 if
// the bytes there are not valid UTF-8 (overlong, surrogate, > U+10FFFF,
// cut short).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  uint32_t v = 0;
  uint32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, v = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, v = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, v = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool IsDisguisingCodePoint(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
         (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

std::string DisplayText(std::string_view raw, DisplayMode mode) {
  const bool reversible = mode == DisplayMode::kReversible;
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(raw, i, &cp);
    if (n == 0) {
      if (reversible) {
        out += fmt::format("\\x{:02x}", static_cast<uint8_t>(raw[i]));
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD
      }
      ++i;
      continue;
    }
    if (cp == '\\' && reversible) {
      out += "\\\\";
    } else if (IsDisguisingCodePoint(cp)) {
      out += cp < 0x80 ? fmt::format("\\x{:02x}", cp) : fmt::format("\\u{:04x}", cp);
    } else {
      out.append(raw.substr(i, n));
    }
    i += n;
  }
  return out;
}

bool NeedsDisplayEscape(std::string_view raw) {
  for (size_t i = 0; i < raw.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(raw, i, &cp);
    if (n == 0 || IsDisguisingCodePoint(cp)) return true;
    i += n;
  }
  return false;
}

absl::StatusOr<std::string> RawFromDisplayText(std::string_view shown) {
  std::string out;
  out.reserve(shown.size());
  for (size_t i = 0; i < shown.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(shown, i, &cp);
    if (n == 0 || IsDisguisingCodePoint(cp))
      return absl::InvalidArgumentError("not a display form: raw byte in it");
    if (cp != '\\') {
      out.append(shown.substr(i, n));
      i += n;
      continue;
    }
    if (i + 1 >= shown.size()) return absl::InvalidArgumentError("dangling backslash");
    const char kind = shown[i + 1];
    if (kind == '\\') {
      out.push_back('\\');
      i += 2;
      continue;
    }
    const size_t digits = kind == 'x' ? 2 : kind == 'u' ? 4 : 0;
    if (digits == 0 || shown.size() - i < 2 + digits)
      return absl::InvalidArgumentError("bad escape");
    uint32_t v = 0;
    for (size_t k = 0; k < digits; ++k) {
      const int h = HexValue(shown[i + 2 + k]);
      if (h < 0) return absl::InvalidArgumentError("bad escape digit");
      v = (v << 4) | static_cast<uint32_t>(h);
    }
    if (kind == 'x') {
      // A disguising ASCII control, or a byte that was not valid UTF-8.
      if (v >= 0x80 ? false : !IsDisguisingCodePoint(v))
        return absl::InvalidArgumentError("escape of a printable byte");
      out.push_back(static_cast<char>(v));
    } else {
      if (v < 0x80 || !IsDisguisingCodePoint(v))
        return absl::InvalidArgumentError("escape of a displayable code point");
      // Every disguising code point >= U+0080 is below U+10000: 2 or 3 bytes.
      if (v < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (v >> 6)));
      } else {
        out.push_back(static_cast<char>(0xE0 | (v >> 12)));
        out.push_back(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
      }
      out.push_back(static_cast<char>(0x80 | (v & 0x3F)));
    }
    i += 2 + digits;
  }
  return out;
}

void MakeJsonDisplaySafe(nlohmann::json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (NeedsDisplayEscape(s)) j = DisplayText(s);
    return;
  }
  if (j.is_array()) {
    for (auto& v : j) MakeJsonDisplaySafe(v);
    return;
  }
  if (!j.is_object()) return;
  nlohmann::json out = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> raws;  // key -> raw bytes
  for (auto it = j.begin(); it != j.end(); ++it) {
    nlohmann::json v = std::move(it.value());
    if (v.is_string() && NeedsDisplayEscape(v.get_ref<const std::string&>()))
      raws.emplace_back(DisplayText(it.key()), v.get<std::string>());
    MakeJsonDisplaySafe(v);
    out[DisplayText(it.key())] = std::move(v);
  }
  for (auto& [key, raw] : raws) {
    const std::string hex_key = key + "_hex";
    if (!out.contains(hex_key)) out[hex_key] = HexEncode(raw);
  }
  j = std::move(out);
}

}  // namespace portcullis
