// Encoding and signing of OpenSSH Ed25519 certificates (PROTOCOL.certkeys).
#include "auth/ca/ssh_certificate.h"

#include <fmt/format.h>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "broker/common/status_macros.h"

namespace portcullis::ca {
namespace {

constexpr size_t kNonceSize = 32;

absl::Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(fmt::format("empty {} name", what));
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(fmt::format("{} name too long", what));
  }
  if (name.find('\0') != std::string_view::npos || !IsValidUtf8(name)) {
    return absl::InvalidArgumentError(fmt::format("{} name must be NUL-free UTF-8", what));
  }
  return absl::OkStatus();
}

absl::Status CheckFields(const CertificateFields& f) {
  if (auto raw = Ed25519RawFromBlob(f.subject_public_blob); !raw.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("subject key: {}", std::string(raw.status().message())));
  }
  if (f.type != kCertTypeUser && f.type != kCertTypeHost) {
    return absl::InvalidArgumentError(fmt::format("unknown certificate type {}", f.type));
  }
  if (f.key_id.size() > kMaxKeyIdLength || f.key_id.find('\0') != std::string::npos ||
      !IsValidUtf8(f.key_id)) {
    return absl::InvalidArgumentError("key id must be NUL-free UTF-8 of at most 1024 bytes");
  }
  // An empty list would mean "any principal"; this CA never issues that.
  if (f.principals.empty()) return absl::InvalidArgumentError("certificate needs a principal");
  if (f.principals.size() > kMaxPrincipals) {
    return absl::InvalidArgumentError("too many principals");
  }
  for (const auto& p : f.principals) PC_RETURN_IF_ERROR(CheckName("principal", p));
  if (f.valid_after >= f.valid_before) {
    return absl::InvalidArgumentError("valid_after must be before valid_before");
  }
  for (const auto& [name, value] : f.critical_options) {
    PC_RETURN_IF_ERROR(CheckName("critical option", name));
    if (value.size() > kMaxCertificateSize) {
      return absl::InvalidArgumentError("critical option value too long");
    }
  }
  for (const auto& name : f.extensions) PC_RETURN_IF_ERROR(CheckName("extension", name));
  return absl::OkStatus();
}

}  // namespace

namespace internal {

absl::StatusOr<std::string> SignCertificateWithNonce(const CertificateFields& fields,
                                                     const Ed25519Key& ca, std::string_view nonce) {
  PC_RETURN_IF_ERROR(CheckFields(fields));
  if (nonce.empty() || nonce.size() > kMaxNonceLength) {
    return absl::InvalidArgumentError("nonce must be 1..256 bytes");
  }
  PC_ASSIGN_OR_RETURN(std::string subject_raw, Ed25519RawFromBlob(fields.subject_public_blob));

  WireWriter principals;
  for (const auto& p : fields.principals) principals.String(p);
  // Options and extensions: (string name, string data) pairs, sorted by name
  // (std::map/std::set order is bytewise, as OpenSSH's strcmp).
  WireWriter critical;
  for (const auto& [name, value] : fields.critical_options) {
    critical.String(name);
    critical.String(value.empty() ? std::string() : WireWriter().String(value).Take());
  }
  WireWriter extensions;
  for (const auto& name : fields.extensions) extensions.String(name).String("");

  WireWriter w;
  w.String(kSshEd25519Cert)
      .String(nonce)
      .String(subject_raw)
      .U64(fields.serial)
      .U32(fields.type)
      .String(fields.key_id)
      .String(principals.data())
      .U64(fields.valid_after)
      .U64(fields.valid_before)
      .String(critical.data())
      .String(extensions.data())
      .String("")  // reserved
      .String(ca.PublicBlob());
  PC_ASSIGN_OR_RETURN(std::string sig, ca.Sign(w.data()));
  w.String(WireWriter().String(kSshEd25519).String(sig).Take());
  if (w.data().size() > kMaxCertificateSize) {
    return absl::InvalidArgumentError("certificate too large");
  }
  return w.Take();
}

}  // namespace internal

absl::StatusOr<std::string> SignCertificate(const CertificateFields& fields, const Ed25519Key& ca) {
  return internal::SignCertificateWithNonce(fields, ca, RandomBytes(kNonceSize));
}

std::string CertificateLine(std::string_view cert_blob, std::string_view comment) {
  std::string line = fmt::format("{} {}", kSshEd25519Cert, Base64Encode(cert_blob));
  if (!comment.empty()) line += fmt::format(" {}", comment);
  return line;
}

}  // namespace portcullis::ca
