#include "agentless/ssh/ssh_address.h"

#include <fmt/format.h>

#include <algorithm>

#include "absl/status/status.h"
#include "broker/common/printable.h"

namespace portcullis::ssh {
namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [first][rest]{0,max_len-1}
template <typename First, typename Rest>
bool Matches(std::string_view s, size_t max_len, First first, Rest rest) {
  if (s.empty() || s.size() > max_len || !first(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(), rest);
}

bool ValidUser(std::string_view s) {
  return Matches(s, 32, IsLower, [](char c) {
    return IsLower(c) || IsDigit(c) || c == '.' || c == '_' || c == '-';
  });
}

bool ValidTarget(std::string_view s) {
  return Matches(
      s, 63, [](char c) { return IsLower(c) || IsDigit(c); },
      [](char c) { return IsLower(c) || IsDigit(c) || c == '.' || c == '_' || c == '-'; });
}

bool ValidLogin(std::string_view s) {
  return Matches(
      s, 64, [](char c) { return IsLower(c) || IsUpper(c) || c == '_'; },
      [](char c) { return IsLower(c) || IsUpper(c) || IsDigit(c) || c == '_' || c == '.' || c == '-'; });
}

absl::Status Bad(std::string_view input, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("invalid SSH user name \"{}\": {} (expected USER, USER:TARGET or USER:LOGIN@TARGET)",
                  Printable(input, 64), why));
}

}  // namespace

absl::StatusOr<SshAddress> ParseSshAddress(std::string_view raw) {
  // scp and sftp split "bob:rtu-01@broker:/path" at the first ':', so
  // "bob+rtu-01" / "bob+maint@rtu-01" are accepted as the same address.
  std::string normalised(raw);
  if (raw.find(':') == std::string_view::npos &&
      std::count(raw.begin(), raw.end(), '+') == 1) {
    normalised[raw.find('+')] = ':';
  }
  std::string_view in = normalised;
  if (in.empty()) return Bad(in, "empty");
  if (in.size() > kMaxSshUserLength) {
    return Bad(in, fmt::format("longer than {} bytes", kMaxSshUserLength));
  }
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return Bad(in, "contains whitespace or control characters");
  }
  const size_t colons = std::count(in.begin(), in.end(), ':');
  const size_t ats = std::count(in.begin(), in.end(), '@');
  if (colons > 1) return Bad(in, "more than one ':'");
  if (colons == 0 && ats > 0) return Bad(in, "'@' without a target (use USER:LOGIN@TARGET)");
  if (ats > 1) return Bad(in, "more than one '@' after the user");
  if (ats == 1 && in.find('@') < in.find(':')) return Bad(in, "'@' before ':'");

  SshAddress out;
  const size_t colon = in.find(':');
  std::string_view user = in.substr(0, colon);
  if (user.empty()) return Bad(in, "empty user");
  if (!ValidUser(user)) {
    return Bad(in, "user must be 1-32 characters [a-z0-9._-] starting with a lowercase letter");
  }
  out.user = std::string(user);
  if (colon == std::string_view::npos) return out;

  std::string_view rest = in.substr(colon + 1);
  std::string_view target = rest;
  if (const size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view login = rest.substr(0, at);
    target = rest.substr(at + 1);
    if (login.empty()) return Bad(in, "empty login before '@'");
    if (!ValidLogin(login)) {
      return Bad(in, "login must be 1-64 characters [A-Za-z0-9_.-] starting with a letter or '_'");
    }
    out.login = std::string(login);
  }
  if (target.empty()) return Bad(in, "empty target");
  if (!ValidTarget(target)) {
    return Bad(in, "target must be 1-63 characters [a-z0-9._-] starting with a lowercase letter or digit");
  }
  out.target = std::string(target);
  return out;
}

}  // namespace portcullis::ssh
