#pragma once
// OpenSSH certificates (ssh-ed25519-cert-v01@openssh.com, PROTOCOL.certkeys):
// encoding and signing with an Ed25519 CA key, a strict parser for untrusted
// certificate blobs, and the authority check sshd applies
// (sshkey_cert_check_authority) with the time as an argument.
// Pure functions; thread-safe.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/ca/ed25519_key.h"

namespace portcullis::ca {

inline constexpr std::string_view kSshEd25519Cert = "ssh-ed25519-cert-v01@openssh.com";
inline constexpr uint32_t kCertTypeUser = 1;  // SSH_CERT_TYPE_USER
inline constexpr uint32_t kCertTypeHost = 2;  // SSH_CERT_TYPE_HOST

// Limits applied when signing and parsing.
inline constexpr size_t kMaxCertificateSize = 16 * 1024;
inline constexpr size_t kMaxPrincipals = 256;  // as OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS
inline constexpr size_t kMaxNameLength = 256;  // principal, option or extension name
inline constexpr size_t kMaxKeyIdLength = 1024;
inline constexpr size_t kMaxNonceLength = 256;

struct CertificateFields {
  std::string subject_public_blob;  // SSH wire blob of the subject key (ssh-ed25519 only for now)
  uint64_t serial = 0;
  uint32_t type = kCertTypeUser;
  std::string key_id;
  std::vector<std::string> principals;
  uint64_t valid_after = 0, valid_before = 0;  // unix seconds; valid iff after <= now < before
  // name -> value. A non-empty value is encoded as one SSH string inside the
  // option's data string (e.g. "source-address" -> "10.0.0.1/32"); an empty
  // value means empty data (a flag option such as "verify-required").
  std::map<std::string, std::string> critical_options;
  std::set<std::string> extensions;  // e.g. "permit-pty"; always empty data
};

// Encodes and signs a certificate with a fresh 32-byte random nonce and an
// empty reserved field. Refuses a subject key that is not ssh-ed25519, an
// unknown type, no principals, valid_after >= valid_before, NULs in names and
// oversized fields. Returns the certificate blob (SSH wire format).
[[nodiscard]] absl::StatusOr<std::string> SignCertificate(const CertificateFields& fields,
                                                          const Ed25519Key& ca);

// "ssh-ed25519-cert-v01@openssh.com BASE64 comment" (no newline; no comment
// if empty). This is the content of a "<key>-cert.pub" file.
std::string CertificateLine(std::string_view cert_blob, std::string_view comment);

struct ParsedCertificate {
  CertificateFields fields;
  std::string nonce;
  std::string signature_key_blob;  // the CA's public blob as written in the cert
  std::string signed_part;         // every byte up to and including the signature key
  std::string signature_blob;      // string "ssh-ed25519" || string sig64
};

// Parses a certificate blob (at most kMaxCertificateSize). Every field is
// checked: type string, 32-byte key, known cert type, NUL-free UTF-8 key id
// and principals, strictly sorted unique option and extension names,
// well-formed option data, empty extension data, empty reserved field, an
// ssh-ed25519 signature key and signature blob, no trailing bytes. Does NOT
// verify the signature (see VerifyUserCertificate).
[[nodiscard]] absl::StatusOr<ParsedCertificate> ParseCertificate(std::string_view blob);

// Like sshd: the certificate was signed by `ca_public_blob` and the signature
// verifies, it is a user certificate, valid_after <= now_unix < valid_before,
// it lists principals and `principal` is one of them, and it has no critical
// option sshd would refuse as unknown. The checks are made on the signed
// bytes (`signed_part` + `signature_blob`), not on `cert.fields`. Returns
// PermissionDenied naming the failed check ("certificate invalid: expired"),
// or InvalidArgument for a malformed CA blob or certificate.
[[nodiscard]] absl::Status VerifyUserCertificate(const ParsedCertificate& cert,
                                                 std::string_view ca_public_blob, uint64_t now_unix,
                                                 std::string_view principal);

namespace internal {
// SignCertificate with a caller-chosen nonce, for byte-exact tests. Never use
// a fixed nonce in production.
[[nodiscard]] absl::StatusOr<std::string> SignCertificateWithNonce(const CertificateFields& fields,
                                                                   const Ed25519Key& ca,
                                                                   std::string_view nonce);
}  // namespace internal

}  // namespace portcullis::ca
