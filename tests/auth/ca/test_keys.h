#pragma once
// Fixed Ed25519 keys for deterministic CA tests (test-only; never used
// anywhere else).

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "auth/ca/ed25519_key.h"
#include "auth/ca/ssh_certificate.h"
#include "broker/common/secret.h"

namespace portcullis::ca::testkeys {

inline constexpr std::string_view kCaPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIEELVS/DWEbhgXlb6ryXZEgs2gcxx2R3MW+7suWJ2cFY\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr std::string_view kSubjectPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIF3QHhb8aLQMGzJke0cKqqjsja2Apm/j68eigXcghqkK\n"
    "-----END PRIVATE KEY-----\n";

inline Ed25519Key Load(std::string_view pem) {
  auto secret = SecretBytes::FromString(pem);
  EXPECT_TRUE(secret.ok());
  auto key = Ed25519Key::FromPrivatePem(*secret);
  EXPECT_TRUE(key.ok()) << key.status();
  return std::move(key).value();
}

inline Ed25519Key FixedCa() { return Load(kCaPem); }
inline Ed25519Key FixedSubject() { return Load(kSubjectPem); }

// The golden certificate: these fields, signed by FixedCa() with GoldenNonce(),
// hash to kGoldenSha256 (Ed25519 signatures are deterministic).
inline std::string GoldenNonce() {
  std::string n;
  for (int i = 0; i < 32; ++i) n.push_back(static_cast<char>(i));
  return n;
}
inline CertificateFields GoldenFields() {
  CertificateFields f;
  f.subject_public_blob = FixedSubject().PublicBlob();
  f.serial = 0x0102030405060708ULL;
  f.type = kCertTypeUser;
  f.key_id = "portcullis:bob:s-123";
  f.principals = {"maint", "root"};
  f.valid_after = 1'700'000'000;
  f.valid_before = 1'700'000'300;
  f.critical_options = {{"source-address", "10.0.0.1/32"}};
  f.extensions = {"permit-pty", "permit-port-forwarding"};
  return f;
}
inline constexpr std::string_view kGoldenSha256 =
    "190edecd6bec71bb4189d85ef1cf3fff53f3e3282cb14d395e3924401a0d04a0";
inline std::string GoldenCertificate() {
  auto blob = internal::SignCertificateWithNonce(GoldenFields(), FixedCa(), GoldenNonce());
  EXPECT_TRUE(blob.ok()) << blob.status();
  return blob.ok() ? *blob : std::string();
}

}  // namespace portcullis::ca::testkeys
