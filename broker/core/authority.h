#pragma once
// Authority: the narrow seam in front of the broker's secrets and decisions
// (the privilege-separation boundary, as OpenSSH's monitor). Protocol code
// and the API ask it to decide a request or to mint a certificate; they never
// touch the CA key, the recording key or the database directly. Today it runs
// in-process (LocalAuthority); the interface allows moving it to a separate
// process later. Implementations are thread-safe.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/ca/ssh_ca.h"
#include "auth/policy/engine.h"
#include "auth/policy/role.h"

namespace portcullis::core {

class Authority {
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
};

}  // namespace portcullis::core
