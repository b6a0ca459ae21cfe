// Fuzzes the Argon2id PHC-string parser that guards VerifyPassword. Any
// string it accepts must respect the cost bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/identity/argon2_phc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::auth;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto h = ParseArgon2idPhc(in);
  if (h.ok()) {
    if (h->m_cost_kib > kMaxArgon2MemoryKib || h->t_cost > kMaxArgon2TimeCost ||
        h->parallelism > kMaxArgon2Parallelism || in.size() > kMaxArgon2PhcLength) {
      std::abort();
    }
  }
  return 0;
}
