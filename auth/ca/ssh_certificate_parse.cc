// Strict parsing of untrusted OpenSSH Ed25519 certificate blobs, and the
// authority check sshd applies to a user certificate.
#include <fmt/format.h>

#include "auth/ca/ssh_certificate.h"
#include "broker/common/bounded_reader.h"
#include "broker/common/status_macros.h"

namespace portcullis::ca {
namespace {

// Every parse error says which field was bad.
absl::Status FieldError(std::string_view field, const absl::Status& cause) {
  return absl::InvalidArgumentError(
      fmt::format("malformed certificate: {}: {}", field, std::string(cause.message())));
}
absl::Status FieldError(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("malformed certificate: {}: {}", field, why));
}

// Reads a NUL-free UTF-8 name (principal, option or extension name).
absl::StatusOr<std::string> ReadName(BoundedReader& r, std::string_view field) {
  auto name = r.Text(kMaxNameLength);
  if (!name.ok()) return FieldError(field, name.status());
  if (name->empty()) return FieldError(field, "empty name");
  return std::string(*name);
}

absl::Status ParsePrincipals(std::string_view section, std::vector<std::string>& out) {
  BoundedReader r(section, kMaxCertificateSize);
  while (r.remaining() > 0) {
    if (out.size() >= kMaxPrincipals) return FieldError("principals", "too many principals");
    PC_ASSIGN_OR_RETURN(std::string p, ReadName(r, "principals"));
    out.push_back(std::move(p));
  }
  return absl::OkStatus();
}

// (string name, string data)* with names strictly increasing.
absl::Status ParseCriticalOptions(std::string_view section,
                                  std::map<std::string, std::string>& out) {
  BoundedReader r(section, kMaxCertificateSize);
  std::string previous;
  while (r.remaining() > 0) {
    PC_ASSIGN_OR_RETURN(std::string name, ReadName(r, "critical options"));
    if (!out.empty() && name <= previous) {
      return FieldError("critical options", "names not sorted or not unique");
    }
    auto data = r.String(kMaxCertificateSize);
    if (!data.ok()) return FieldError("critical options", data.status());
    std::string value;
    if (!data->empty()) {
      // Exactly one non-empty string inside the data string.
      BoundedReader inner(*data, kMaxCertificateSize);
      auto v = inner.String(kMaxCertificateSize);
      if (!v.ok()) return FieldError("critical options", v.status());
      if (!inner.Finish().ok())
        return FieldError("critical options", "trailing bytes in option data");
      if (v->empty()) return FieldError("critical options", "empty string in option data");
      value = std::string(*v);
    }
    previous = name;
    out.emplace(std::move(name), std::move(value));
  }
  return absl::OkStatus();
}

absl::Status ParseExtensions(std::string_view section, std::set<std::string>& out) {
  BoundedReader r(section, kMaxCertificateSize);
  std::string previous;
  while (r.remaining() > 0) {
    PC_ASSIGN_OR_RETURN(std::string name, ReadName(r, "extensions"));
    if (!out.empty() && name <= previous) {
      return FieldError("extensions", "names not sorted or not unique");
    }
    auto data = r.String(kMaxCertificateSize);
    if (!data.ok()) return FieldError("extensions", data.status());
    if (!data->empty()) return FieldError("extensions", "extension data must be empty");
    previous = name;
    out.insert(std::move(name));
  }
  return absl::OkStatus();
}

// string "ssh-ed25519" || string sig64, nothing else.
absl::Status CheckSignatureBlob(std::string_view blob) {
  BoundedReader r(blob, 1024);
  auto alg = r.String(64);
  if (!alg.ok()) return FieldError("signature", alg.status());
  if (*alg != kSshEd25519) return FieldError("signature", "algorithm is not ssh-ed25519");
  auto sig = r.String(kEd25519SignatureSize);
  if (!sig.ok()) return FieldError("signature", sig.status());
  if (sig->size() != kEd25519SignatureSize) return FieldError("signature", "must be 64 bytes");
  if (!r.Finish().ok()) return FieldError("signature", "trailing bytes");
  return absl::OkStatus();
}

bool IsKnownCriticalOption(std::string_view name) {
  return name == "force-command" || name == "source-address" || name == "verify-required";
}

}  // namespace

absl::StatusOr<ParsedCertificate> ParseCertificate(std::string_view blob) {
  if (blob.size() > kMaxCertificateSize) return FieldError("certificate", "too large");
  BoundedReader r(blob, kMaxCertificateSize);
  ParsedCertificate out;
  CertificateFields& f = out.fields;

  auto type = r.String(64);
  if (!type.ok()) return FieldError("key type", type.status());
  if (*type != kSshEd25519Cert) {
    return FieldError("key type", "not ssh-ed25519-cert-v01@openssh.com");
  }
  auto nonce = r.String(kMaxNonceLength);
  if (!nonce.ok()) return FieldError("nonce", nonce.status());
  out.nonce = std::string(*nonce);
  auto pk = r.String(kEd25519PublicSize);
  if (!pk.ok()) return FieldError("public key", pk.status());
  if (pk->size() != kEd25519PublicSize) return FieldError("public key", "must be 32 bytes");
  f.subject_public_blob = WireWriter().String(kSshEd25519).String(*pk).Take();
  auto serial = r.U64();
  if (!serial.ok()) return FieldError("serial", serial.status());
  f.serial = *serial;
  auto cert_type = r.U32();
  if (!cert_type.ok()) return FieldError("type", cert_type.status());
  if (*cert_type != kCertTypeUser && *cert_type != kCertTypeHost) {
    return FieldError("type", fmt::format("unknown certificate type {}", *cert_type));
  }
  f.type = *cert_type;
  auto key_id = r.Text(kMaxKeyIdLength);
  if (!key_id.ok()) return FieldError("key id", key_id.status());
  f.key_id = std::string(*key_id);
  auto principals = r.String(kMaxCertificateSize);
  if (!principals.ok()) return FieldError("principals", principals.status());
  PC_RETURN_IF_ERROR(ParsePrincipals(*principals, f.principals));
  auto after = r.U64();
  if (!after.ok()) return FieldError("valid after", after.status());
  f.valid_after = *after;
  auto before = r.U64();
  if (!before.ok()) return FieldError("valid before", before.status());
  f.valid_before = *before;
  auto critical = r.String(kMaxCertificateSize);
  if (!critical.ok()) return FieldError("critical options", critical.status());
  PC_RETURN_IF_ERROR(ParseCriticalOptions(*critical, f.critical_options));
  auto extensions = r.String(kMaxCertificateSize);
  if (!extensions.ok()) return FieldError("extensions", extensions.status());
  PC_RETURN_IF_ERROR(ParseExtensions(*extensions, f.extensions));
  auto reserved = r.String(kMaxCertificateSize);
  if (!reserved.ok()) return FieldError("reserved", reserved.status());
  if (!reserved->empty()) return FieldError("reserved", "must be empty");
  auto ca_key = r.String(1024);
  if (!ca_key.ok()) return FieldError("signature key", ca_key.status());
  if (auto raw = Ed25519RawFromBlob(*ca_key); !raw.ok()) {
    return FieldError("signature key", raw.status());
  }
  out.signature_key_blob = std::string(*ca_key);
  out.signed_part = std::string(blob.substr(0, r.position()));
  auto signature = r.String(1024);
  if (!signature.ok()) return FieldError("signature", signature.status());
  PC_RETURN_IF_ERROR(CheckSignatureBlob(*signature));
  out.signature_blob = std::string(*signature);
  if (!r.Finish().ok()) return FieldError("certificate", "trailing bytes after signature");
  return out;
}

absl::Status VerifyUserCertificate(const ParsedCertificate& cert, std::string_view ca_public_blob,
                                   uint64_t now_unix, std::string_view principal) {
  PC_ASSIGN_OR_RETURN(std::string ca_raw, Ed25519RawFromBlob(ca_public_blob));
  // Check the signed bytes, not `cert.fields`, which a caller could have
  // changed after parsing.
  auto signed_cert =
      ParseCertificate(cert.signed_part + WireWriter().String(cert.signature_blob).Take());
  if (!signed_cert.ok()) return signed_cert.status();
  const CertificateFields& f = signed_cert->fields;
  if (signed_cert->signature_key_blob != ca_public_blob) {
    return absl::PermissionDeniedError("certificate invalid: not signed by the trusted CA");
  }
  BoundedReader sig_reader(signed_cert->signature_blob, 1024);
  auto alg = sig_reader.String(64);
  auto sig = sig_reader.String(kEd25519SignatureSize);
  if (!alg.ok() || *alg != kSshEd25519 || !sig.ok() || !sig_reader.Finish().ok() ||
      !VerifyEd25519(ca_raw, signed_cert->signed_part, *sig).ok()) {
    return absl::PermissionDeniedError("certificate invalid: bad CA signature");
  }
  if (f.type != kCertTypeUser) {
    return absl::PermissionDeniedError("certificate invalid: not a user certificate");
  }
  if (now_unix < f.valid_after) {
    return absl::PermissionDeniedError("certificate invalid: not yet valid");
  }
  if (now_unix >= f.valid_before) {
    return absl::PermissionDeniedError("certificate invalid: expired");
  }
  if (f.principals.empty()) {
    return absl::PermissionDeniedError("certificate invalid: lacks principal list");
  }
  bool listed = false;
  for (const auto& p : f.principals) listed |= (p == principal);
  if (!listed) {
    return absl::PermissionDeniedError("certificate invalid: name is not a listed principal");
  }
  for (const auto& [name, value] : f.critical_options) {
    if (!IsKnownCriticalOption(name)) {
      return absl::PermissionDeniedError("certificate invalid: unsupported critical option");
    }
  }
  return absl::OkStatus();
}

}  // namespace portcullis::ca
