#pragma once
// Authenticator: password + TOTP verification for people, shared by every
// entry point (gRPC login now, the SSH listener next). It enforces lockout,
// refuses replayed TOTP codes, burns equal time for unknown users, and writes
// one audit event per attempt. Every failure returns the same
// UNAUTHENTICATED "invalid credentials" so callers cannot tell an unknown
// user, a wrong password, a wrong code, a disabled or a locked account apart.
// Thread-safe; the stores and the audit log it points to must outlive it.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/identity/password.h"
#include "auth/identity/secret_box.h"
#include "auth/identity/totp.h"
#include "broker/audit/audit_log.h"
#include "broker/common/clock.h"
#include "broker/common/secret.h"
#include "broker/store/user_repo.h"

namespace portcullis::core {

inline constexpr std::string_view kAdminRole = "admin";
// Reviewers: may list, replay, export, verify and search every recording.
inline constexpr std::string_view kAuditorRole = "auditor";
inline constexpr std::string_view kInvalidCredentials = "invalid credentials";

struct Identity {
  std::string user;
  std::vector<std::string> roles;
  bool admin = false;
};

bool HasAdminRole(const std::vector<std::string>& roles);

struct LockoutPolicy {
  int max_failures = 5;
  std::chrono::seconds window{15 * 60};
};

class Authenticator {
 public:
  // `argon2`: the costs new passwords are hashed with; attempts that verify
  // no real hash (unknown or locked user) burn the same work.
  Authenticator(store::UserRepo* users, audit::AuditLog* audit, const auth::SecretBox* box,
                const Clock* clock, LockoutPolicy lockout, const auth::Argon2Params& argon2);

  // `channel` names the entry point for the audit log ("grpc", "ssh").
  [[nodiscard]] absl::StatusOr<Identity> PasswordAndTotp(std::string_view user,
                                                         const SecretBytes& password,
                                                         std::string_view totp_code,
                                                         std::string_view source,
                                                         std::string_view channel);
  // The second step after a public key registered with `portcullis keys
  // add` has been verified by the caller: account checks + TOTP.
  [[nodiscard]] absl::StatusOr<Identity> KeyAndTotp(std::string_view user,
                                                    std::string_view key_fingerprint,
                                                    std::string_view totp_code,
                                                    std::string_view source,
                                                    std::string_view channel);
  // A login certificate (issued after password + TOTP at `portcullis login`)
  // whose signature, validity and principal the caller has verified:
  // account checks only (exists, enabled, not locked).
  [[nodiscard]] absl::StatusOr<Identity> LoginCertificate(std::string_view user, uint64_t serial,
                                                          std::string_view source,
                                                          std::string_view channel);
  // Counts and audits a failure the caller detected (bad key signature,
  // refused certificate). Always returns UNAUTHENTICATED.
  absl::Status RecordFailure(std::string_view user, std::string_view reason,
                             std::string_view source, std::string_view channel);
  // True iff `user` has reached the failure threshold within the window.
  bool IsLocked(std::string_view user);
  // Additional data binding a sealed TOTP seed to its user row.
  static std::string SeedAad(std::string_view user) { return "totp-seed:" + std::string(user); }

 private:
  // Appends one event; logs (never with secrets) and returns a failure.
  absl::Status Audit(std::string type, std::string_view actor, std::string_view subject,
                     std::string outcome, std::string_view source, nlohmann::json details);
  absl::Status Fail(std::string_view user, std::string_view type, std::string_view reason,
                    std::string_view source, std::string_view channel);
  absl::StatusOr<store::UserRecord> CheckAccount(std::string_view user, std::string_view source,
                                                 std::string_view channel);
  absl::StatusOr<Identity> VerifyTotpAndFinish(const store::UserRecord& rec,
                                               std::string_view totp_code,
                                               std::string_view source, std::string_view channel,
                                               std::string_view method);
  absl::StatusOr<Identity> Succeed(const store::UserRecord& rec, std::string_view source,
                                   std::string_view channel, std::string_view method,
                                   std::string_view mfa);
  // Costs what verifying a password against a real user's hash costs.
  void BurnPasswordVerification(const SecretBytes& password) const;

  store::UserRepo* users_;
  audit::AuditLog* audit_;
  const auth::SecretBox* box_;
  const Clock* clock_;
  LockoutPolicy lockout_;
  std::string dummy_hash_;  // hash of a random password, with the configured costs
};

}  // namespace portcullis::core
