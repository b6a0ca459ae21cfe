// Fuzzes SecretBox::Open with arbitrary sealed bytes under a fixed key and
// aad. Any input that opens must re-seal and re-open to the same secret.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/identity/secret_box.h"

namespace {
const portcullis::auth::SecretBox& Box() {
  static const auto* box = new portcullis::auth::SecretBox(portcullis::auth::SecretBox::FromKey(
      *portcullis::SecretBytes::FromString(std::string(32, '\x42'))));
  return *box;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const char* aad = "fuzz-aad";
  auto opened = Box().Open(in, aad);
  if (opened.ok()) {
    auto resealed = Box().Seal(*opened, aad);
    if (!resealed.ok()) std::abort();
    auto again = Box().Open(*resealed, aad);
    if (!again.ok() || !again->Equals(*opened)) std::abort();
  }
  return 0;
}
