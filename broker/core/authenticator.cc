#include "broker/common/absl_fmt.h"
#include "broker/core/authenticator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace portcullis::core {
namespace {

// Holds one ConcurrencyLimit slot for a scope (if it got one).
class Slot {
 public:
  explicit Slot(ConcurrencyLimit& limit) : limit_(limit), held_(limit.Acquire()) {}
  ~Slot() { Release(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  explicit operator bool() const { return held_; }
  void Release() {
    if (held_) limit_.Release();
    held_ = false;
  }

 private:
  ConcurrencyLimit& limit_;
  bool held_;
};

}  // namespace

bool HasAdminRole(const std::vector<std::string>& roles) {
  return std::find(roles.begin(), roles.end(), kAdminRole) != roles.end();
}

Identity IdentityOf(const store::UserRecord& rec) {
  return Identity{rec.name, rec.roles, HasAdminRole(rec.roles), rec.id, rec.login_generation};
}

bool ConcurrencyLimit::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  if (in_use_ >= max_) {
    if (waiting_ >= max_waiters_) return false;
    ++waiting_;
    const bool got = cv_.wait_for(lock, wait_, [&] { return in_use_ < max_; });
    --waiting_;
    if (!got) return false;
  }
  ++in_use_;
  return true;
}

void ConcurrencyLimit::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
  }
  cv_.notify_one();
}

Authenticator::Authenticator(store::UserRepo* users, audit::AuditLog* audit,
                             const auth::SecretBox* box, const Clock* clock,
                             LockoutPolicy lockout, const auth::Argon2Params& argon2,
                             int max_password_checks)
    : users_(users),
      audit_(audit),
      box_(box),
      clock_(clock),
      lockout_(lockout),
      sources_(lockout.max_failures_per_source, lockout.window),
      password_checks_(max_password_checks, kPasswordCheckQueueFactor * max_password_checks,
                       kPasswordCheckWait) {
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
  auto n = users_->AuthAttemptsInWindow(user, clock_->NowUnix(), lockout_.window.count());
  // If the failure store cannot be read, fail closed.
  return !n.ok() || *n >= lockout_.max_failures;
}

int Authenticator::CountAttempt(std::string_view user) {
  auto n = users_->CountAuthAttempt(user, clock_->NowUnix(), lockout_.window.count(),
                                    lockout_.max_failures);
  if (n.ok()) return *n;
  if (!absl::IsResourceExhausted(n.status())) {
    // Fail closed: an attempt that cannot be counted is not evaluated.
    spdlog::error("auth: cannot count attempt: {}", n.status().message());
  }
  return 0;
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
                                 std::string_view channel, int counted) {
  (void)Audit(std::string(type), user, user, "failure", source,
              {{"reason", std::string(reason)}, {"channel", std::string(channel)}});
  if (sources_.Record(source, clock_->NowUnix()) == sources_.max_failures()) {
    (void)Audit("auth.source_lockout", "system", SourceThrottle::HostOf(source), "locked", source,
                {{"failures", sources_.max_failures()},
                 {"window_seconds", sources_.window_seconds()}});
  }
  if (counted == lockout_.max_failures) {
    (void)Audit("auth.lockout", "system", user, "locked", source,
                {{"failures", lockout_.max_failures},
                 {"window_seconds", lockout_.window.count()}});
  }
  return absl::UnauthenticatedError(std::string(kInvalidCredentials));
}

absl::Status Authenticator::RefuseLocked(std::string_view user, std::string_view source,
                                         std::string_view channel) {
  (void)Audit("auth.login", user, user, "failure", source,
              {{"reason", "account locked"}, {"channel", std::string(channel)}});
  return absl::UnauthenticatedError(std::string(kInvalidCredentials));
}

absl::Status Authenticator::RefuseSource(std::string_view user, std::string_view source,
                                         std::string_view channel) {
  (void)Audit("auth.login", user, user, "failure", source,
              {{"reason", "source locked"}, {"channel", std::string(channel)}});
  return absl::UnauthenticatedError(std::string(kInvalidCredentials));
}

absl::Status Authenticator::RefuseBusy(std::string_view user, std::string_view source,
                                       std::string_view channel) {
  (void)Audit("auth.login", user, user, "failure", source,
              {{"reason", "broker busy"}, {"channel", std::string(channel)}});
  return absl::ResourceExhaustedError(std::string(kBusy));
}

absl::StatusOr<Identity> Authenticator::PasswordAndTotp(std::string_view user,
                                                        const SecretBytes& password,
                                                        std::string_view totp_code,
                                                        std::string_view source,
                                                        std::string_view channel) {
  // Argon2id is memory-hard: bound how many run at once before doing any.
  Slot slot(password_checks_);
  if (!slot) return RefuseBusy(user.substr(0, 64), source, channel);
  if (user.empty() || user.size() > 64 || totp_code.size() > 16) {
    BurnPasswordVerification(password);
    // No failure counter can be keyed on a malformed name; audit it anyway.
    (void)Audit("auth.login", user.substr(0, 64), user.substr(0, 64), "failure", source,
                {{"reason", "malformed request"},
                 {"user_bytes", user.size()},
                 {"channel", std::string(channel)}});
    return absl::UnauthenticatedError(std::string(kInvalidCredentials));
  }
  // An address that failed too often is refused before anything about
  // the user is counted or evaluated (it cannot lock users out by name).
  if (sources_.Blocked(source, clock_->NowUnix())) {
    BurnPasswordVerification(password);
    return RefuseSource(user, source, channel);
  }
  // Counted before anything is verified, so parallel attempts cannot get
  // more than the limit evaluated; a success clears it again.
  const int counted = CountAttempt(user);
  if (counted == 0) {
    BurnPasswordVerification(password);
    return RefuseLocked(user, source, channel);
  }
  auto rec = users_->Get(user);
  if (!rec.ok()) {
    BurnPasswordVerification(password);
    return Fail(user, "auth.login", "unknown user", source, channel, counted);
  }
  bool password_ok = auth::VerifyPassword(rec->password_hash, password);
  slot.Release();
  if (rec->disabled) return Fail(user, "auth.login", "user disabled", source, channel, counted);
  if (!password_ok) return Fail(user, "auth.login", "wrong password", source, channel, counted);

  return VerifyTotpAndFinish(*rec, totp_code, source, channel, "password+totp", counted);
}

absl::StatusOr<Identity> Authenticator::VerifyTotpAndFinish(const store::UserRecord& rec,
                                                            std::string_view totp_code,
                                                            std::string_view source,
                                                            std::string_view channel,
                                                            std::string_view method,
                                                            int counted) {
  const std::string& user = rec.name;
  auto seed = box_->Open(rec.totp_seed_sealed, SeedAad(rec.name));
  if (!seed.ok()) {
    spdlog::error("auth: TOTP seed of {} cannot be opened (wrong secrets.key?)", rec.name);
    return Fail(user, "auth.mfa_failure", "TOTP seed unreadable", source, channel, counted);
  }
  auto counter = auth::VerifyTotp(*seed, totp_code, clock_->Now(), rec.totp_last_counter);
  if (!counter.ok()) {
    std::string reason = counter.status().code() == absl::StatusCode::kFailedPrecondition
                             ? "verification code replayed"
                             : "wrong verification code";
    return Fail(user, "auth.mfa_failure", reason, source, channel, counted);
  }
  if (auto st = users_->ConsumeTotpCounter(rec.name, *counter); !st.ok()) {
    return Fail(user, "auth.mfa_failure", "verification code replayed", source, channel, counted);
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
  return IdentityOf(rec);
}

absl::StatusOr<store::UserRecord> Authenticator::CheckAccount(std::string_view user,
                                                              std::string_view source,
                                                              std::string_view channel,
                                                              int counted) {
  if (counted == 0 && IsLocked(user)) return RefuseLocked(user, source, channel);
  auto rec = users_->Get(user);
  const auto fail = [&](std::string_view reason) {
    return Fail(user, "auth.login", reason, source, channel,
                counted != 0 ? counted : CountAttempt(user));
  };
  if (!rec.ok()) return fail("unknown user");
  if (rec->disabled) return fail("user disabled");
  return rec;
}

absl::StatusOr<Identity> Authenticator::KeyAndTotp(std::string_view user,
                                                   std::string_view key_fingerprint,
                                                   std::string_view totp_code,
                                                   std::string_view source,
                                                   std::string_view channel) {
  if (user.empty() || user.size() > 64) {
    (void)Audit("auth.login", user.substr(0, 64), user.substr(0, 64), "failure", source,
                {{"reason", "malformed request"}, {"channel", std::string(channel)}});
    return absl::UnauthenticatedError(std::string(kInvalidCredentials));
  }
  if (sources_.Blocked(source, clock_->NowUnix())) return RefuseSource(user, source, channel);
  // The code is a guessable secret: count the attempt before looking at it.
  const int counted = CountAttempt(user);
  if (counted == 0) return RefuseLocked(user, source, channel);
  if (totp_code.size() > 16) {
    return Fail(user, "auth.mfa_failure", "malformed code", source, channel, counted);
  }
  auto rec = CheckAccount(user, source, channel, counted);
  if (!rec.ok()) return rec.status();
  return VerifyTotpAndFinish(*rec, totp_code, source, channel,
                             fmt::format("publickey({})+totp", key_fingerprint), counted);
}

bool Authenticator::LoginBindingIsCurrent(std::string_view user, int64_t user_id,
                                          int64_t generation, std::string_view source,
                                          std::string_view channel, bool audit) {
  auto rec = users_->Get(user);
  const bool current =
      rec.ok() && !rec->disabled && rec->id == user_id && rec->login_generation == generation;
  if (!current && audit) {
    (void)Audit("auth.login", user.substr(0, 64), user.substr(0, 64), "failure", source,
                {{"reason", "login certificate revoked"},
                 {"channel", std::string(channel)},
                 {"counted", false}});
  }
  return current;
}

absl::StatusOr<Identity> Authenticator::LoginCertificate(std::string_view user, int64_t user_id,
                                                         int64_t generation, uint64_t serial,
                                                         std::string_view source,
                                                         std::string_view channel) {
  if (user.empty() || user.size() > 64) {
    (void)Audit("auth.login", user.substr(0, 64), user.substr(0, 64), "failure", source,
                {{"reason", "malformed request"}, {"channel", std::string(channel)}});
    return absl::UnauthenticatedError(std::string(kInvalidCredentials));
  }
  // Nothing is guessed here (the certificate's signature was verified), so
  // only the lock is checked; a failure is still counted.
  auto rec = CheckAccount(user, source, channel, 0);
  if (!rec.ok()) return rec.status();
  if (rec->id != user_id || rec->login_generation != generation) {
    return Fail(user, "auth.login", "login certificate revoked", source, channel,
                CountAttempt(user));
  }
  return Succeed(*rec, source, channel, fmt::format("login-certificate(serial {})", serial),
                 "totp at portcullis login");
}

absl::Status Authenticator::RecordFailure(std::string_view user, std::string_view reason,
                                          std::string_view source, std::string_view channel) {
  user = user.substr(0, 64);
  return Fail(user, "auth.login", reason, source, channel, user.empty() ? 0 : CountAttempt(user));
}

}  // namespace portcullis::core
