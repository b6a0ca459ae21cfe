#pragma once
// SshCertificateAuthority: the broker's SSH user CA. It mints short-lived
// OpenSSH user certificates for the ephemeral keys the broker uses to log in
// to targets (a stock sshd with `TrustedUserCAKeys` = ExportLine()).
//
// Thread-safe: IssueTargetCertificate may be called concurrently; calls to the
// `serials` callback are serialized by the CA. The CA owns its key; the clock
// must outlive it. This is the narrow "sign this certificate" seam that can
// later move behind a privilege-separation boundary.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/ca/ed25519_key.h"
#include "broker/common/clock.h"

namespace portcullis::ca {

struct CaOptions {
  std::chrono::seconds default_ttl{300};
  std::chrono::seconds max_ttl{600};
  // Critical option source-address: comma-separated addresses/CIDRs
  // ("192.0.2.7", "10.0.0.0/8,2001:db8::/32"). Empty = no restriction.
  std::string source_address;
};

struct TargetCertRequest {
  std::string subject_public_blob;  // the broker's ephemeral ssh-ed25519 key
  std::string user;                 // Portcullis user
  std::string session_id;
  std::string login;  // account on the target = the one principal
  bool permit_pty = true;
  bool permit_port_forwarding = false;
  std::chrono::seconds ttl{0};  // 0 = default_ttl; more than max_ttl is an error
};

struct IssuedCertificate {
  std::string blob;  // certificate wire blob
  std::string line;  // "ssh-ed25519-cert-v01@openssh.com BASE64 KEY-ID" (a -cert.pub file)
  uint64_t serial = 0;
  std::string key_id;
  uint64_t valid_after = 0, valid_before = 0;
};

class SshCertificateAuthority {
 public:
  // Backdating of valid_after, for small clock skew between broker and target.
  static constexpr std::chrono::seconds kBackdate{30};
  static constexpr std::string_view kExportComment = "portcullis-user-ca";

  // `serials` returns a fresh unique serial (the broker backs it with its
  // DB); if null, a random nonzero 63-bit serial is used.
  SshCertificateAuthority(Ed25519Key ca_key, const Clock* clock, CaOptions options,
                          std::function<uint64_t()> serials = nullptr);

  // Key id "portcullis:<user>:<session-id>", principals = {login}, valid from
  // now-30s to now+ttl; extensions permit-pty (if permit_pty) and
  // permit-port-forwarding (if permit_port_forwarding) and nothing else; the
  // critical option source-address only when options.source_address is set.
  // user, session_id and login must be 1..64 printable ASCII characters
  // without spaces or ':' (':' separates the key id fields and the SSH
  // USER:LOGIN@TARGET address).
  // InvalidArgument for a bad request, FailedPrecondition for bad CaOptions.
  [[nodiscard]] absl::StatusOr<IssuedCertificate> IssueTargetCertificate(
      const TargetCertRequest& req) const;

  // "ssh-ed25519 AAAA... portcullis-user-ca": what a target puts in
  // TrustedUserCAKeys.
  std::string ExportLine() const;
  std::string PublicBlob() const;

 private:
  uint64_t NextSerial() const;

  const Ed25519Key key_;
  const Clock* const clock_;
  const CaOptions options_;
  const std::function<uint64_t()> serials_;
  mutable std::mutex serial_mu_;
};

}  // namespace portcullis::ca
