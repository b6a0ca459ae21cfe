#pragma once
// Internal helper of auth/policy: makes untrusted text safe to put inside a
// one-line error message or decision reason (control and non-ASCII bytes
// become '?', long text is cut with "..."). Pure, thread-safe.

#include <string>
#include <string_view>

namespace portcullis {

inline std::string Printable(std::string_view s, size_t max_len = 64) {
  std::string out;
  out.reserve(s.size() < max_len ? s.size() : max_len + 3);
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == max_len) {
      out += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

}  // namespace portcullis
