#include "auth/ca/login_binding.h"

#include <fmt/format.h>

namespace portcullis::ca {
namespace {

constexpr size_t kMaxUserBytes = 64;
constexpr size_t kMaxDigits = 18;  // < 2^63

// Reads "<tag><decimal>" from the front of `s`; the number is >= 1 with no
// leading zero. Advances `s` past it.
bool ReadNumber(std::string_view& s, std::string_view tag, int64_t* out) {
  if (s.substr(0, tag.size()) != tag) return false;
  s.remove_prefix(tag.size());
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > kMaxDigits || s[0] == '0') return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v * 10 + (s[i] - '0');
  s.remove_prefix(n);
  *out = v;
  return true;
}

}  // namespace

std::string LoginKeyId(const LoginBinding& b) {
  return fmt::format("{}{}/u{}/g{}", kLoginKeyIdPrefix, b.user, b.user_id, b.generation);
}

absl::StatusOr<LoginBinding> ParseLoginKeyId(std::string_view key_id) {
  const auto bad = [] { return absl::InvalidArgumentError("not a bound login certificate key id"); };
  if (key_id.substr(0, kLoginKeyIdPrefix.size()) != kLoginKeyIdPrefix) return bad();
  std::string_view rest = key_id.substr(kLoginKeyIdPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash > kMaxUserBytes) return bad();
  LoginBinding b;
  b.user = std::string(rest.substr(0, slash));
  for (char c : b.user) {
    if (c == '\0') return bad();
  }
  rest.remove_prefix(slash);
  if (!ReadNumber(rest, "/u", &b.user_id) || !ReadNumber(rest, "/g", &b.generation)) return bad();
  if (!rest.empty()) return bad();  // trailing bytes
  return b;
}

}  // namespace portcullis::ca
