// Fuzzes the OpenSSH public key line / wire blob parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/ca/ed25519_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto key = portcullis::ca::ParsePublicKeyLine(input);
  if (key.ok()) (void)portcullis::ca::Fingerprint(key->blob);
  (void)portcullis::ca::Ed25519RawFromBlob(input);
  return 0;
}
