#pragma once
// Authenticator: password + TOTP verification for people, shared by every
// entry point (gRPC login now, the SSH listener next). It enforces lockout,
// refuses replayed TOTP codes, burns equal time for unknown users, and writes
// one audit event per attempt. Every failure returns the same
// UNAUTHENTICATED "invalid credentials" so callers cannot tell an unknown
// user, a wrong password, a wrong code, a disabled or a locked account apart.
// Thread-safe; the stores and the audit log it points to must outlive it.

#include <chrono>
#include <condition_variable>
#include <mutex>
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
#include "broker/core/source_throttle.h"
#include "broker/session/user_authenticator.h"
#include "broker/store/user_repo.h"

namespace portcullis::core {

inline constexpr std::string_view kAdminRole = "admin";
// Reviewers: may list, replay, export, verify and search every recording.
inline constexpr std::string_view kAuditorRole = "auditor";
inline constexpr std::string_view kInvalidCredentials = "invalid credentials";

using session::Identity;

bool HasAdminRole(const std::vector<std::string>& roles);
Identity IdentityOf(const store::UserRecord& rec);

struct LockoutPolicy {
  int max_failures = 5;
  std::chrono::seconds window{15 * 60};
  // Failed logins from one source address (any user names) within
  // `window` after which that address is refused (0: no limit).
  int max_failures_per_source = 100;
};

// A counting semaphore with a bounded queue: at most `max` holders at once
// and at most `max_waiters` callers waiting, each for at most `wait`.
// Thread-safe.
class ConcurrencyLimit {
 public:
  ConcurrencyLimit(int max, int max_waiters, std::chrono::milliseconds wait)
      : max_(max < 1 ? 1 : max), max_waiters_(max_waiters), wait_(wait) {}
  // Takes a slot; false at once if the queue is full, or after `wait`
  // without a slot freeing up.
  [[nodiscard]] bool Acquire();
  void Release();
  int max() const { return max_; }

 private:
  const int max_;
  const int max_waiters_;
  const std::chrono::milliseconds wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_use_ = 0;   // guarded by mu_
  int waiting_ = 0;  // guarded by mu_
};

class Authenticator final : public session::UserAuthenticator {
 public:
  // `argon2`: the costs new passwords are hashed with; attempts that verify
  // no real hash (unknown or locked user) burn the same work.
  // `max_password_checks`: how many password verifications (each takes
  // argon2.m_cost_kib of memory) may run at once. Up to
  // kPasswordCheckQueueFactor times as many logins wait, each at most
  // kPasswordCheckWait; any other is refused with ResourceExhausted (kBusy)
  // before anything about it is evaluated or counted.
  Authenticator(store::UserRepo* users, audit::AuditLog* audit, const auth::SecretBox* box,
                const Clock* clock, LockoutPolicy lockout, const auth::Argon2Params& argon2,
                int max_password_checks = 4);

  static constexpr std::chrono::milliseconds kPasswordCheckWait{2000};
  static constexpr int kPasswordCheckQueueFactor = 16;
  static constexpr std::string_view kBusy = "too many logins in progress; try again shortly";

  // `channel` names the entry point for the audit log ("grpc", "ssh").
  [[nodiscard]] absl::StatusOr<Identity> PasswordAndTotp(std::string_view user,
                                                         const SecretBytes& password,
                                                         std::string_view totp_code,
                                                         std::string_view source,
                                                         std::string_view channel) override;
  // The second step after a public key registered with `portcullis keys
  // add` has been verified by the caller: account checks + TOTP.
  [[nodiscard]] absl::StatusOr<Identity> KeyAndTotp(std::string_view user,
                                                    std::string_view key_fingerprint,
                                                    std::string_view totp_code,
                                                    std::string_view source,
                                                    std::string_view channel) override;
  // A login certificate (issued after password + TOTP at `portcullis login`)
  // whose signature, validity and principal the caller has verified, with
  // the user id and login generation read from it (ca/login_binding.h):
  // account checks (exists, enabled, not locked) and the binding must be
  // the user's current one (else a counted failure, "login certificate
  // revoked").
  [[nodiscard]] absl::StatusOr<Identity> LoginCertificate(std::string_view user, int64_t user_id,
                                                          int64_t generation, uint64_t serial,
                                                          std::string_view source,
                                                          std::string_view channel) override;
  // True iff `user` exists, is enabled and (user_id, generation) is its
  // current binding: for answering a key probe. Counts nothing; if `audit`,
  // a refusal is audited ("login certificate revoked").
  bool LoginBindingIsCurrent(std::string_view user, int64_t user_id, int64_t generation,
                             std::string_view source, std::string_view channel, bool audit) override;
  // Counts and audits a failure the caller detected (bad key signature,
  // refused certificate). Always returns UNAUTHENTICATED.
  absl::Status RecordFailure(std::string_view user, std::string_view reason,
                             std::string_view source, std::string_view channel) override;
  // True iff `user` has reached the failure threshold within the window.
  bool IsLocked(std::string_view user);
  int max_password_checks() const { return password_checks_.max(); }
  // Additional data binding a sealed TOTP seed to its user row.
  static std::string SeedAad(std::string_view user) { return "totp-seed:" + std::string(user); }

 private:
  // Appends one event; logs (never with secrets) and returns a failure.
  absl::Status Audit(std::string type, std::string_view actor, std::string_view subject,
                     std::string outcome, std::string_view source, nlohmann::json details);
  // Audits a failed attempt whose count `CountAttempt` already took
  // (`counted` = the count it returned, or 0 if none) and writes the
  // auth.lockout event when this failure reached the limit.
  absl::Status Fail(std::string_view user, std::string_view type, std::string_view reason,
                    std::string_view source, std::string_view channel, int counted);
  // Counts one attempt for `user` before anything is verified (one atomic
  // step in the store); 0 if the account is locked (or the store fails):
  // then the attempt must be refused without evaluating it.
  int CountAttempt(std::string_view user);
  absl::Status RefuseLocked(std::string_view user, std::string_view source,
                            std::string_view channel);
  // A source over its limit: audited, nothing counted against the user.
  absl::Status RefuseSource(std::string_view user, std::string_view source,
                            std::string_view channel);
  absl::Status RefuseBusy(std::string_view user, std::string_view source,
                          std::string_view channel);
  // `counted`: as for Fail; 0 = only check the lock (no credential is
  // guessed on this path).
  absl::StatusOr<store::UserRecord> CheckAccount(std::string_view user, std::string_view source,
                                                 std::string_view channel, int counted);
  absl::StatusOr<Identity> VerifyTotpAndFinish(const store::UserRecord& rec,
                                               std::string_view totp_code,
                                               std::string_view source, std::string_view channel,
                                               std::string_view method, int counted);
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
  SourceThrottle sources_;
  ConcurrencyLimit password_checks_;
  std::string dummy_hash_;  // hash of a random password, with the configured costs
};

}  // namespace portcullis::core
