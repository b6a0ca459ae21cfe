#pragma once
// TestPki: certificates and keys made in-process with OpenSSL for the TLS
// import tests, with every property a refusal case needs (validity window,
// SAN, key usage, CA flag, issuer, key type). Times are absolute Unix
// seconds so tests pass `now` explicitly. Test-only code; not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/common/openssl_handles.h"

namespace portcullis::tls::testing {

// The validity every certificate gets unless told otherwise: a year from
// kT0. Tests call the validator at kNow.
inline constexpr int64_t kT0 = 1'790'000'000;  // 2026-09-21
inline constexpr int64_t kNow = kT0 + 10 * 86400;

struct CertSpec {
  std::string cn = "portcullisd";
  int64_t not_before = kT0;
  int64_t not_after = kT0 + 365 * 86400;
  bool ca = false;
  std::optional<std::string> san = "IP:127.0.0.1,DNS:localhost";  // nullopt = none
  std::optional<std::string> key_usage = "critical,digitalSignature";  // nullopt = none
  std::optional<std::string> ext_key_usage = "serverAuth";            // nullopt = none
};

struct Issued {
  EvpPkeyPtr key;
  X509Ptr cert;
  std::string CertPem() const;
  std::string KeyPem() const;
};

// A P-256 key (or RSA of `rsa_bits` when > 0, or Ed25519 with `ed25519`).
EvpPkeyPtr NewKey(int rsa_bits = 0, bool ed25519 = false);
// A self-signed root CA.
Issued MakeRoot(const std::string& cn = "Test Root CA");
// A certificate for `key` (a new P-256 key if null) signed by `issuer`
// (self-signed if null).
Issued MakeCert(const CertSpec& spec, const Issued* issuer, EvpPkeyPtr key = nullptr);
// A CA certificate signed by `issuer`.
Issued MakeIntermediate(const Issued& issuer, const std::string& cn = "Test Issuing CA");
// `key` as PKCS#8 PEM encrypted with AES-256-CBC under `password`.
std::string EncryptedKeyPem(EVP_PKEY* key, const std::string& password);

}  // namespace portcullis::tls::testing
