#include "auth/ca/ssh_ca.h"

#include <fmt/format.h>

#include "auth/ca/ssh_certificate.h"
#include "broker/common/encoding.h"
#include "broker/common/status_macros.h"

namespace portcullis::ca {
namespace {

constexpr size_t kMaxIdentifier = 64;
constexpr size_t kMaxSourceAddress = 1024;

absl::Status CheckIdentifier(std::string_view what, std::string_view value) {
  if (value.empty() || value.size() > kMaxIdentifier) {
    return absl::InvalidArgumentError(fmt::format("{} must be 1..64 characters", what));
  }
  for (char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(
          fmt::format("{} must be printable ASCII without spaces", what));
    }
    if (c == ':') {
      return absl::InvalidArgumentError(fmt::format("{} must not contain ':'", what));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckOptions(const CaOptions& o) {
  if (o.default_ttl.count() <= 0 || o.max_ttl.count() <= 0 || o.default_ttl > o.max_ttl) {
    return absl::FailedPreconditionError("CA options: need 0 < default_ttl <= max_ttl");
  }
  if (o.source_address.size() > kMaxSourceAddress) {
    return absl::FailedPreconditionError("CA options: source_address too long");
  }
  // Addresses and CIDRs only; sshd parses the list itself.
  std::string_view s = o.source_address;
  bool empty_item = !s.empty() && (s.front() == ',' || s.back() == ',');
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '.' || c == ':' || c == '/' || c == ',';
    if (!ok) return absl::FailedPreconditionError("CA options: bad character in source_address");
    if (c == ',' && i + 1 < s.size() && s[i + 1] == ',') empty_item = true;
  }
  if (empty_item) return absl::FailedPreconditionError("CA options: empty source_address item");
  return absl::OkStatus();
}

}  // namespace

SshCertificateAuthority::SshCertificateAuthority(Ed25519Key ca_key, const Clock* clock,
                                                 CaOptions options,
                                                 std::function<uint64_t()> serials)
    : key_(std::move(ca_key)),
      clock_(clock),
      options_(std::move(options)),
      serials_(std::move(serials)) {}

uint64_t SshCertificateAuthority::NextSerial() const {
  if (serials_) {
    std::lock_guard<std::mutex> lock(serial_mu_);
    return serials_();
  }
  for (;;) {
    std::string b = RandomBytes(8);
    uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
    v &= 0x7fff'ffff'ffff'ffffULL;
    if (v != 0) return v;
  }
}

absl::StatusOr<IssuedCertificate> SshCertificateAuthority::IssueTargetCertificate(
    const TargetCertRequest& req) const {
  PC_RETURN_IF_ERROR(CheckOptions(options_));
  PC_RETURN_IF_ERROR(CheckIdentifier("user", req.user));
  PC_RETURN_IF_ERROR(CheckIdentifier("session id", req.session_id));
  PC_RETURN_IF_ERROR(CheckIdentifier("login", req.login));
  if (req.ttl.count() < 0) return absl::InvalidArgumentError("negative certificate ttl");
  if (req.ttl > options_.max_ttl) {
    return absl::InvalidArgumentError(fmt::format("certificate ttl {}s exceeds the maximum {}s",
                                                  req.ttl.count(), options_.max_ttl.count()));
  }
  const std::chrono::seconds ttl = req.ttl.count() == 0 ? options_.default_ttl : req.ttl;
  const int64_t now = clock_->NowUnix();
  if (now <= kBackdate.count()) return absl::FailedPreconditionError("clock is before 1970");

  CertificateFields f;
  f.subject_public_blob = req.subject_public_blob;
  f.type = kCertTypeUser;
  f.key_id = fmt::format("portcullis:{}:{}", req.user, req.session_id);
  f.principals = {req.login};
  f.valid_after = static_cast<uint64_t>(now - kBackdate.count());
  f.valid_before = static_cast<uint64_t>(now + ttl.count());
  if (!options_.source_address.empty()) {
    f.critical_options["source-address"] = options_.source_address;
  }
  if (req.permit_pty) f.extensions.insert("permit-pty");
  if (req.permit_port_forwarding) f.extensions.insert("permit-port-forwarding");
  // Check the subject key before consuming a serial.
  if (auto raw = Ed25519RawFromBlob(req.subject_public_blob); !raw.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("subject key: {}", std::string(raw.status().message())));
  }
  f.serial = NextSerial();

  PC_ASSIGN_OR_RETURN(std::string blob, SignCertificate(f, key_));
  IssuedCertificate out;
  out.line = CertificateLine(blob, f.key_id);
  out.blob = std::move(blob);
  out.serial = f.serial;
  out.key_id = f.key_id;
  out.valid_after = f.valid_after;
  out.valid_before = f.valid_before;
  return out;
}

std::string SshCertificateAuthority::ExportLine() const {
  return key_.AuthorizedKeyLine(kExportComment);
}

std::string SshCertificateAuthority::PublicBlob() const { return key_.PublicBlob(); }

}  // namespace portcullis::ca
