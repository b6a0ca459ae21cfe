#pragma once
// The broker's own client side of the RFB handshake for targets reached
// over VeNCrypt (RFB security type 19) with X.509 certificates, written for
// the broker (libvncclient cannot hand a TLS session over to a relay):
//
//   NegotiateVeNCrypt()   in the clear: the version (the target must speak
//                         3.8), security type 19, VeNCrypt 0.2 and the
//                         subtype: X509Vnc (261) with a vaulted password,
//                         X509None (260) without one. Anonymous TLS
//                         (TLSVnc, TLSNone) cannot be pinned and is refused,
//                         as is a target that offers no VeNCrypt at all:
//                         never a silent downgrade to the clear.
//   (TLS handshake, then the caller checks the certificate pin BEFORE any
//   credential is sent.)
//   FinishHandshake()     inside TLS: VncAuth's challenge/response (X509Vnc),
//                         SecurityResult, ClientInit (shared), ServerInit.
//
// Both read through a ByteChannel, so the parsers run the same over a TLS
// stream, a socket and (in the fuzz target) a buffer. Every length the
// target sends is bounded before anything is allocated. Error messages are
// for the audit log and never quote a secret.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agentless/vnc/vnc_handshake.h"
#include "broker/common/secret.h"

namespace portcullis::vnc {

inline constexpr uint8_t kSecurityVeNCrypt = 19;
inline constexpr uint32_t kVeNCryptX509None = 260;
inline constexpr uint32_t kVeNCryptX509Vnc = 261;

// Blocking, bounded by the implementation's own deadline.
class ByteChannel {
 public:
  virtual ~ByteChannel() = default;
  // Unavailable if the peer went away or the deadline passed.
  [[nodiscard]] virtual absl::Status ReadExact(void* buf, size_t n) = 0;
  [[nodiscard]] virtual absl::Status WriteAll(std::string_view bytes) = 0;
};

// Errors: Unavailable (not RFB, the connection failed, the target refused
// the connection with a reason), FailedPrecondition (no VeNCrypt, no X.509
// subtype, RFB older than 3.8: the target is not configured for TLS).
// Returns the chosen subtype once the target accepted it; the TLS
// handshake starts next.
[[nodiscard]] absl::StatusOr<uint32_t> NegotiateVeNCrypt(ByteChannel& ch, bool with_password);

// Inside TLS, after the pin check. `password` is required for X509Vnc.
// Errors: Unauthenticated (the target refused the vaulted password),
// Unavailable (malformed, gone), InvalidArgument (no password for X509Vnc).
[[nodiscard]] absl::StatusOr<ServerInitInfo> FinishHandshake(ByteChannel& ch, uint32_t subtype,
                                                             const SecretBytes* password);

// The pin of a target certificate: "x509-sha256 " + the lowercase hex
// SHA-256 of its DER encoding (what `openssl x509 -fingerprint -sha256`
// prints, without the colons); broker/core/target_validation.h reads an
// operator's pin into the same form.
std::string CertificatePin(std::string_view der);

}  // namespace portcullis::vnc
