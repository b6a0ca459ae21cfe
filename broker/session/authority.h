#pragma once
// Authority: the narrow seam in front of the broker's secrets and decisions
// (the privilege-separation boundary, as OpenSSH's monitor). Protocol code
// and the API ask it to decide a request or to mint a certificate; they never
// touch the CA key, the recording key, the vault key or the database directly. Today it runs
// in-process (LocalAuthority); the interface allows moving it to a separate
// process later. Implementations are thread-safe.
//
// It is also the RecordingSigner: recorders hand it checkpoint lines and
// manifests to seal with the recording key (SignRecordingSeal refuses any
// other payload, so the key cannot be made to sign something else).

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/ca/login_binding.h"
#include "auth/ca/ssh_ca.h"
#include "auth/policy/engine.h"
#include "auth/policy/role.h"
#include "broker/session/recorder.h"
#include "broker/session/vaulted_secret.h"

namespace portcullis::session {

class Authority : public RecordingSigner {
 public:
  virtual ~Authority() = default;
  // Decides `req` against the current role table (roles are looked up by
  // the names in req.role_names). Never fails: a broken table denies.
  virtual policy::Decision Decide(const policy::AccessRequest& req) = 0;
  // True iff the user's roles let them see `target` (targets ls).
  virtual bool CanSee(const std::vector<std::string>& role_names,
                      const policy::TargetInfo& target) = 0;
  // Mints a short-lived OpenSSH user certificate for a target login.
  [[nodiscard]] virtual absl::StatusOr<ca::IssuedCertificate> IssueTargetCertificate(
      const ca::TargetCertRequest& req) = 0;
  // The line for a target's TrustedUserCAKeys.
  virtual std::string SshUserCaLine() const = 0;

  // Mints the login certificate `portcullis login` hands out: principal =
  // `binding.user`, key id = ca::LoginKeyId(binding) (the user id and login
  // generation it is valid for), signed by the login CA (a key distinct from
  // the target CA, trusted only by the broker's SSH listener), valid for
  // `ttl`. `subject_public_blob` must be an ssh-ed25519 wire blob.
  // InvalidArgument for a bad request.
  [[nodiscard]] virtual absl::StatusOr<ca::IssuedCertificate> IssueLoginCertificate(
      const ca::LoginBinding& binding, std::string_view subject_public_blob,
      std::chrono::seconds ttl) = 0;
  // Checks a certificate presented at the SSH listener: parses, signed by the
  // login CA, a user certificate valid now, `user` among its principals.
  // OK, or PermissionDenied/InvalidArgument with the failed check.
  [[nodiscard]] virtual absl::Status VerifyLoginCertificate(std::string_view cert_blob,
                                                            std::string_view user) = 0;

  // Opens the secret vaulted for (target, login) for the broker's own login
  // to that target, at connect time. The caller owns the result and must
  // drop it as soon as it has authenticated (it is wiped on destruction).
  // NotFound("no secret vaulted for LOGIN"); DataLoss if it does not open.
  [[nodiscard]] virtual absl::StatusOr<VaultedSecret> OpenTargetSecret(std::string_view target,
                                                                       std::string_view login) = 0;
};

}  // namespace portcullis::session
