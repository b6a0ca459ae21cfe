// Fuzzes the OpenSSH public key line / wire blob parsers: the broker's
// Ed25519-only one and the one for keys users register (Ed25519, ECDSA, RSA).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/ca/ed25519_key.h"
#include "auth/ca/ssh_public_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto key = portcullis::ca::ParsePublicKeyLine(input);
  if (key.ok()) (void)portcullis::ca::Fingerprint(key->blob);
  (void)portcullis::ca::Ed25519RawFromBlob(input);
  auto user_key = portcullis::ca::ParseUserPublicKeyLine(input);
  if (user_key.ok()) (void)portcullis::ca::Fingerprint(user_key->blob);
  (void)portcullis::ca::CheckUserPublicKeyBlob(input);
  return 0;
}
