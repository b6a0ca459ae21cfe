#pragma once
// X.509 helpers for the API's TLS identity: PEM parsing with clear errors,
// a printable summary of a certificate (never key bytes), and a string that
// wipes itself for PEM text holding a private key. Thread-safe (no shared
// state).

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/common/openssl_handles.h"

namespace portcullis::tls {

// At most this many certificates in one PEM file (leaf + chain).
inline constexpr size_t kMaxPemCertificates = 16;

// PEM text that holds a private key: wiped with OPENSSL_cleanse when
// destroyed or moved from. Move-only; no operator<<. Unlike SecretBytes it
// has no size cap, since a bundle also holds certificates.
class KeyPemText {
 public:
  KeyPemText() = default;
  explicit KeyPemText(std::string text) : text_(std::move(text)) {}
  ~KeyPemText() { Wipe(); }
  KeyPemText(KeyPemText&& other) noexcept : text_(std::move(other.text_)) { other.Wipe(); }
  KeyPemText& operator=(KeyPemText&& other) noexcept;
  KeyPemText(const KeyPemText&) = delete;
  KeyPemText& operator=(const KeyPemText&) = delete;

  // The bytes, for writing them to a 0600 file or handing them to gRPC.
  std::string_view Reveal() const { return text_; }
  void Append(std::string_view s) { text_.append(s); }

 private:
  void Wipe();
  std::string text_;
};

// Every CERTIFICATE block of `pem`, in file order. `what` names the input in
// errors ("--cert"). InvalidArgument if there is none, if a block does not
// parse, or if there are more than kMaxPemCertificates. Other PEM blocks
// (e.g. a private key) are skipped.
[[nodiscard]] absl::StatusOr<std::vector<X509Ptr>> ParsePemCertificates(std::string_view pem,
                                                                        std::string_view what);

// The one private key in `pem` (PKCS#8, or traditional RSA/EC PEM).
// InvalidArgument if there is none or it does not parse; FailedPrecondition
// if it is encrypted (the broker starts unattended, so it needs it clear).
// Error messages never contain key bytes.
[[nodiscard]] absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(std::string_view pem,
                                                            std::string_view what);

// "ECDSA P-256", "RSA 3072"; InvalidArgument for any other kind of key
// (Ed25519, DSA, ...) or RSA below 2048 bits or an EC curve other than
// P-256, P-384 and P-521: what every TLS client takes.
[[nodiscard]] absl::StatusOr<std::string> CheckServerKeyType(EVP_PKEY* key);
bool IsRsaKey(EVP_PKEY* key);

struct CertificateSummary {
  std::string subject;             // RFC 2253, e.g. "CN=portcullisd,O=Example Plant"
  std::string issuer;              // RFC 2253
  std::string sha256_fingerprint;  // as `openssl x509 -fingerprint -sha256`: "AB:CD:..."
  std::string serial;              // hex
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
  std::vector<std::string> sans;   // "DNS:localhost", "IP:127.0.0.1", in certificate order
};

// Never fails for a certificate that parsed; unreadable fields come out
// empty (or 0).
CertificateSummary Summarise(X509* cert);

// PEM text of `cert`.
std::string CertificatePem(X509* cert);
// PKCS#8 PEM text of `key` (unencrypted).
KeyPemText PrivateKeyPem(EVP_PKEY* key);

// ASN1_TIME to Unix seconds; false if it cannot be read.
bool Asn1TimeToUnix(const ASN1_TIME* t, int64_t* out);

}  // namespace portcullis::tls
