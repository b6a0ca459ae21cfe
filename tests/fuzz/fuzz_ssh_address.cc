// Fuzzes the SSH user name parser (USER[:[LOGIN@]TARGET], '+' for ':').
// Properties of every accepted input: a user always; a login only with a
// target; the parts rebuild the input's canonical form (its one '+' read as
// ':' when it has no ':'); and the ':' and '+' spellings of an address give
// the same parse, accepted or refused alike.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agentless/ssh/ssh_address.h"

namespace {

using portcullis::ssh::ParseSshAddress;
using portcullis::ssh::SshAddress;

bool Same(const SshAddress& a, const SshAddress& b) {
  return a.user == b.user && a.login == b.login && a.target == b.target;
}

bool OnlyOne(std::string_view s, char c) {
  const size_t at = s.find(c);
  return at != std::string_view::npos && s.find(c, at + 1) == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto a = ParseSshAddress(input);

  // The other spelling, where the input has one ':' and no '+' or the
  // reverse; the canonical form is the one with ':'.
  const bool uses_colon = OnlyOne(input, ':') && input.find('+') == std::string_view::npos;
  const bool uses_plus = OnlyOne(input, '+') && input.find(':') == std::string_view::npos;
  std::string canonical(input);
  if (uses_colon || uses_plus) {
    std::string other(input);
    if (uses_colon) other[input.find(':')] = '+';
    if (uses_plus) {
      canonical[input.find('+')] = ':';
      other = canonical;
    }
    auto b = ParseSshAddress(other);
    if (a.ok() != b.ok() || (a.ok() && !Same(*a, *b))) __builtin_trap();
  }

  if (!a.ok()) return 0;
  if (a->user.empty() || (!a->login.empty() && a->target.empty())) __builtin_trap();
  std::string rebuilt = a->user;
  if (!a->target.empty()) {
    rebuilt += ":";
    if (!a->login.empty()) rebuilt += a->login + "@";
    rebuilt += a->target;
  }
  if (rebuilt != canonical) __builtin_trap();
  return 0;
}
