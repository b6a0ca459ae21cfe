// Fuzzes the SSH user name parser (USER[:[LOGIN@]TARGET]).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agentless/ssh/ssh_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto a = portcullis::ssh::ParseSshAddress(input);
  if (!a.ok()) return 0;
  // Invariants: a user always; a login only with a target; the parts rebuild the input.
  if (a->user.empty() || (!a->login.empty() && a->target.empty())) __builtin_trap();
  std::string rebuilt = a->user;
  if (!a->target.empty()) {
    rebuilt += ":";
    if (!a->login.empty()) rebuilt += a->login + "@";
    rebuilt += a->target;
  }
  if (rebuilt != input) __builtin_trap();
  return 0;
}
