// Fuzzes the login certificate key id parser (portcullis-login:USER/uID/gGEN).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/ca/login_binding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto b = portcullis::ca::ParseLoginKeyId(input);
  if (!b.ok()) return 0;
  // Invariants: positive numbers, a user, and the parts rebuild the input.
  if (b->user.empty() || b->user_id < 1 || b->generation < 1) __builtin_trap();
  if (portcullis::ca::LoginKeyId(*b) != input) __builtin_trap();
  return 0;
}
