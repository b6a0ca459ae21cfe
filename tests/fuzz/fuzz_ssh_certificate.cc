// Fuzzes the OpenSSH certificate parser and, for inputs that parse, the
// authority check (signature, validity, principal).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/ca/ssh_certificate.h"
#include "broker/common/bounded_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto cert = portcullis::ca::ParseCertificate(input);
  if (!cert.ok()) return 0;
  // Re-verify against the CA the certificate names, at a time inside its
  // validity, for its first principal: exercises every check.
  const auto& f = cert->fields;
  std::string principal = f.principals.empty() ? "root" : f.principals.front();
  (void)portcullis::ca::VerifyUserCertificate(*cert, cert->signature_key_blob, f.valid_after,
                                              principal);
  return 0;
}
