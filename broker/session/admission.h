#pragma once
// Admission: the one protocol-neutral step between an authenticated user
// and a target. Every access path (SSH today; VNC, RDP and TCP next) calls
// it instead of deciding for itself:
//
//   Admit()            look the target up, check its protocol, visibility and
//                      the policy decision (hours, deny rules,
//                      require_approval), and that the recorder is ready;
//                      audit policy.decision (and session.refused)
//   IssueCertificate() the credential step for certificate targets;
//                      audit ca.cert_issued
//   AcceptHostKey()    after connecting: trust on first use or the pin check;
//                      audit target.host_key_pinned / target.host_key_mismatch
//   ConnectFailed()    audit session.target_failed / target.host_key_mismatch
//   DecideTunnel()     a per-request decision inside an admitted session
//
// Each returns a value; a denial is an error status whose message is the
// line for the user's client (never a secret, and the same for a target
// that does not exist and one the user may not see).
//
// The policy.decision event has one schema, written only through
// DecisionDetails(): request, login, protocol, role, rule, reason, and the
// session when there is one; requests inside a session add destination
// (tunnel), direction and path (transfer), command (exec) or writes (sftp).
//
// Thread-safe if its services are; the services must outlive it.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/ca/ssh_ca.h"
#include "auth/policy/engine.h"
#include "broker/audit/audit_event.h"
#include "broker/common/clock.h"
#include "broker/session/authority.h"
#include "broker/session/recorder.h"
#include "broker/session/target_directory.h"

namespace portcullis::session {

// Who asks for what. `user` and `roles` come from authentication.
struct AdmissionRequest {
  std::string user;
  std::vector<std::string> roles;
  std::string source;      // client address, for the audit rows
  std::string session_id;  // "" before the session has an id
  std::string target;      // as the user named it
  std::string login;       // "" = the deciding role's default login
  policy::Protocol protocol = policy::Protocol::kSsh;
};

// An admitted request: the target as it was when admitted and the decision
// that admitted it (decision.allowed; decision.login is the login in force).
struct Admission {
  AccessTarget target;
  policy::Decision decision;
  const std::string& login() const { return decision.login; }
};

struct AdmissionServices {
  TargetDirectory* targets = nullptr;
  Authority* authority = nullptr;
  audit::AuditWriter* audit = nullptr;
  RecorderFactory* recorders = nullptr;  // null: every session is refused
  const Clock* clock = nullptr;
};

// What a request inside a session is, for the policy.decision row.
enum class RequestKind { kTarget, kTunnel, kTransfer, kExec, kSftp };
std::string_view RequestKindName(RequestKind k);

// The details of a policy.decision row (see above). `login` and
// `protocol` may be empty when they do not apply.
nlohmann::json DecisionDetails(RequestKind kind, std::string_view login,
                               std::string_view protocol, const policy::Decision& d);

class Admitter {
 public:
  explicit Admitter(AdmissionServices services) : s_(services) {}

  // PermissionDenied: "portcullis: access to TARGET denied by policy" (no
  // such target, another protocol, or not visible) or "portcullis: access
  // to LOGIN@TARGET denied by policy: REASON". Unavailable when the
  // recorder cannot write, or the audit row cannot be stored.
  [[nodiscard]] absl::StatusOr<Admission> Admit(const AdmissionRequest& r);

  // A target certificate for the broker's ephemeral key `public_blob`
  // (ssh-ed25519 wire blob), principal = the admitted login.
  [[nodiscard]] absl::StatusOr<ca::IssuedCertificate> IssueCertificate(
      const AdmissionRequest& r, const Admission& a, std::string_view public_blob,
      bool permit_port_forwarding);

  // The credential step for password and key targets: the secret vaulted
  // for the admitted login (for a vnc target: the empty login, VNC has
  // none), opened by the Authority. NotFound if none is
  // vaulted; FailedPrecondition if its kind does not fit the target's auth.
  // Errors are reasons for the audit log and never quote the secret.
  [[nodiscard]] absl::StatusOr<SecretBytes> OpenSecret(const AdmissionRequest& r,
                                                       const Admission& a);

  // After the target presented `host_key` ("TYPE BASE64") and it matched
  // the pin, or no pin existed (`first_use`): pins it on first use.
  // FailedPrecondition with the user's line if another key was pinned
  // meanwhile; Unavailable if the audit row cannot be stored.
  [[nodiscard]] absl::Status AcceptHostKey(const AdmissionRequest& r, const Admission& a,
                                           std::string_view host_key, bool first_use);

  // Audits a failed connection (`st` from the protocol's connector:
  // FailedPrecondition = changed host key, Unauthenticated = the vaulted
  // login failed) and returns the user's line; a failed vaulted login tells
  // the user only "the broker could not log in to TARGET as LOGIN" (or "... to
  // TARGET" where there is no login, as for VNC).
  std::string ConnectFailed(const AdmissionRequest& r, const Admission& a,
                            const absl::Status& st);

  // A tunnel to `destination` ("HOST:PORT") from an admitted session.
  // Audited; never fails (a store error denies).
  policy::Decision DecideTunnel(const AdmissionRequest& r, const Admission& a,
                                std::string_view destination);

  // Names of the targets speaking `protocol` that `roles` may see, sorted.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> VisibleTargets(
      const std::vector<std::string>& roles, policy::Protocol protocol);

  // Writes a policy.decision row for a decision taken inside a session
  // (transfer, exec, sftp, one target per connection). `extra` holds the
  // request's own keys (destination, direction, path, command, writes).
  [[nodiscard]] absl::Status AuditDecision(const AdmissionRequest& r, std::string_view subject,
                                           RequestKind kind, const policy::Decision& d,
                                           nlohmann::json extra);

 private:
  [[nodiscard]] absl::Status Write(const AdmissionRequest& r, std::string type,
                                   std::string subject, std::string outcome,
                                   nlohmann::json details);
  AdmissionServices s_;
};

}  // namespace portcullis::session
