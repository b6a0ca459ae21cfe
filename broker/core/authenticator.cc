#include "broker/common/absl_fmt.h"
#include "broker/core/authenticator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace portcullis::core {

bool HasAdminRole(const std::vector<std::string>& roles) {
  return std::find(roles.begin(), roles.end(), kAdminRole) != roles.end();
}

Authenticator::Authenticator(store::UserRepo* users, audit::AuditLog* audit,
                             const auth::SecretBox* box, const Clock* clock,
                             LockoutPolicy lockout, const auth::Argon2Params& argon2)
    : users_(users), audit_(audit), box_(box), clock_(clock), lockout_(lockout) {
  // A fixed dummy with the library's default costs would answer unknown
  // users faster or slower than real ones whenever the config tunes Argon2.
  auto hash = auth::HashPassword(SecretBytes::Random(32), argon2);
  if (hash.ok()) dummy_hash_ = *hash;
}

void Authenticator::BurnPasswordVerification(const SecretBytes& password) const {
  if (dummy_hash_.empty()) {
    auth::BurnPasswordVerification(password);
    return;
  }
  (void)auth::VerifyPassword(dummy_hash_, password);
}

bool Authenticator::IsLocked(std::string_view user) {
  int64_t since = clock_->NowUnix() - lockout_.window.count();
  auto n = users_->CountAuthFailuresSince(user, since);
  // If the failure store cannot be read, fail closed.
  return !n.ok() || *n >= lockout_.max_failures;
}

absl::Status Authenticator::Audit(std::string type, std::string_view actor,
                                  std::string_view subject, std::string outcome,
                                  std::string_view source, nlohmann::json details) {
  audit::AuditEvent ev;
  ev.type = std::move(type);
  ev.actor = std::string(actor);
  ev.subject = std::string(subject);
  ev.outcome = std::move(outcome);
  ev.source = std::string(source);
  ev.details = std::move(details);
  auto st = audit_->Append(ev);
  if (!st.ok()) spdlog::error("auth: cannot write audit event: {}", st.status().message());
  return st.status();
}

absl::Status Authenticator::Fail(std::string_view user, std::string_view type,
                                 std::string_view reason, std::string_view source,
                                 std::string_view channel) {
  bool was_locked = IsLocked(user);
  if (auto st = users_->RecordAuthFailure(user, clock_->NowUnix()); !st.ok()) {
    spdlog::error("auth: cannot record failure: {}", st.message());
  }
  (void)Audit(std::string(type), user, user, "failure", source,
              {{"reason", std::string(reason)}, {"channel", std::string(channel)}});
  if (!was_locked && IsLocked(user)) {
    (void)Audit("auth.lockout", "system", user, "locked", source,
                {{"failures", lockout_.max_failures},
                 {"window_seconds", lockout_.window.count()}});
  }
  return absl::UnauthenticatedError(std::string(kInvalidCredentials));
}

absl::StatusOr<Identity> Authenticator::PasswordAndTotp(std::string_view user,
                                                        const SecretBytes& password,
                                                        std::string_view totp_code,
                                                        std::string_view source,
                                                        std::string_view channel) {
  if (user.empty() || user.size() > 64 || totp_code.size() > 16) {
    BurnPasswordVerification(password);
    // No failure counter can be keyed on a malformed name; audit it anyway.
    (void)Audit("auth.login", user.substr(0, 64), user.substr(0, 64), "failure", source,
                {{"reason", "malformed request"},
                 {"user_bytes", user.size()},
                 {"channel", std::string(channel)}});
    return absl::UnauthenticatedError(std::string(kInvalidCredentials));
  }
  if (IsLocked(user)) {
    BurnPasswordVerification(password);
    (void)Audit("auth.login", user, user, "failure", source,
                {{"reason", "account locked"}, {"channel", std::string(channel)}});
    return absl::UnauthenticatedError(std::string(kInvalidCredentials));
  }
  auto rec = users_->Get(user);
  if (!rec.ok()) {
    BurnPasswordVerification(password);
    return Fail(user, "auth.login", "unknown user", source, channel);
  }
  bool password_ok = auth::VerifyPassword(rec->password_hash, password);
  if (rec->disabled) return Fail(user, "auth.login", "user disabled", source, channel);
  if (!password_ok) return Fail(user, "auth.login", "wrong password", source, channel);

  return VerifyTotpAndFinish(*rec, totp_code, source, channel, "password+totp");
}

absl::StatusOr<Identity> Authenticator::VerifyTotpAndFinish(const store::UserRecord& rec,
                                                            std::string_view totp_code,
                                                            std::string_view source,
                                                            std::string_view channel,
                                                            std::string_view method) {
  const std::string& user = rec.name;
  auto seed = box_->Open(rec.totp_seed_sealed, SeedAad(rec.name));
  if (!seed.ok()) {
    spdlog::error("auth: TOTP seed of {} cannot be opened (wrong secrets.key?)", rec.name);
    return Fail(user, "auth.mfa_failure", "TOTP seed unreadable", source, channel);
  }
  auto counter = auth::VerifyTotp(*seed, totp_code, clock_->Now(), rec.totp_last_counter);
  if (!counter.ok()) {
    std::string reason = counter.status().code() == absl::StatusCode::kFailedPrecondition
                             ? "verification code replayed"
                             : "wrong verification code";
    return Fail(user, "auth.mfa_failure", reason, source, channel);
  }
  if (auto st = users_->ConsumeTotpCounter(rec.name, *counter); !st.ok()) {
    return Fail(user, "auth.mfa_failure", "verification code replayed", source, channel);
  }
  return Succeed(rec, source, channel, method, "totp");
}

absl::StatusOr<Identity> Authenticator::Succeed(const store::UserRecord& rec,
                                                std::string_view source,
                                                std::string_view channel,
                                                std::string_view method, std::string_view mfa) {
  (void)users_->ClearAuthFailures(rec.name);
  if (!Audit("auth.login", rec.name, rec.name, "success", source,
             {{"channel", std::string(channel)},
              {"method", std::string(method)},
              {"mfa", std::string(mfa)}})
           .ok()) {
    return absl::UnavailableError("audit log unavailable");  // no audit, no access
  }
  return Identity{rec.name, rec.roles, HasAdminRole(rec.roles)};
}

absl::StatusOr<store::UserRecord> Authenticator::CheckAccount(std::string_view user,
                                                              std::string_view source,
                                                              std::string_view channel) {
  if (user.empty() || user.size() > 64) {
    (void)Audit("auth.login", user.substr(0, 64), user.substr(0, 64), "failure", source,
                {{"reason", "malformed request"}, {"channel", std::string(channel)}});
    return absl::UnauthenticatedError(std::string(kInvalidCredentials));
  }
  if (IsLocked(user)) {
    (void)Audit("auth.login", user, user, "failure", source,
                {{"reason", "account locked"}, {"channel", std::string(channel)}});
    return absl::UnauthenticatedError(std::string(kInvalidCredentials));
  }
  auto rec = users_->Get(user);
  if (!rec.ok()) return Fail(user, "auth.login", "unknown user", source, channel);
  if (rec->disabled) return Fail(user, "auth.login", "user disabled", source, channel);
  return rec;
}

absl::StatusOr<Identity> Authenticator::KeyAndTotp(std::string_view user,
                                                   std::string_view key_fingerprint,
                                                   std::string_view totp_code,
                                                   std::string_view source,
                                                   std::string_view channel) {
  if (totp_code.size() > 16) return Fail(user.substr(0, 64), "auth.mfa_failure", "malformed code", source, channel);
  auto rec = CheckAccount(user, source, channel);
  if (!rec.ok()) return rec.status();
  return VerifyTotpAndFinish(*rec, totp_code, source, channel,
                             fmt::format("publickey({})+totp", key_fingerprint));
}

absl::StatusOr<Identity> Authenticator::LoginCertificate(std::string_view user, uint64_t serial,
                                                         std::string_view source,
                                                         std::string_view channel) {
  auto rec = CheckAccount(user, source, channel);
  if (!rec.ok()) return rec.status();
  return Succeed(*rec, source, channel, fmt::format("login-certificate(serial {})", serial),
                 "totp at portcullis login");
}

absl::Status Authenticator::RecordFailure(std::string_view user, std::string_view reason,
                                          std::string_view source, std::string_view channel) {
  return Fail(user.substr(0, 64), "auth.login", reason, source, channel);
}

}  // namespace portcullis::core
