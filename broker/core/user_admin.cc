#include "broker/core/user_admin.h"

#include <fmt/format.h>

#include "auth/identity/password.h"
#include "auth/identity/totp.h"

namespace portcullis::core {

absl::Status ValidateUserName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 32 && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(fmt::format(
        "bad user name '{}': want 1-32 of a-z 0-9 . _ -, starting with a letter", name));
  }
  return absl::OkStatus();
}

absl::Status AuditSuccess(Broker& b, const Actor& actor, std::string type, std::string subject,
                          nlohmann::json details) {
  audit::AuditEvent ev;
  ev.type = std::move(type);
  ev.actor = actor.name;
  ev.subject = std::move(subject);
  ev.outcome = "success";
  ev.source = actor.source;
  ev.details = std::move(details);
  auto st = b.audit().Append(ev);
  return st.ok() ? absl::OkStatus() : st.status();
}

absl::Status ValidateRoleNames(Broker& b, const std::vector<std::string>& roles) {
  for (const auto& r : roles) {
    if (r == kAdminRole || r == kAuditorRole) continue;
    auto got = b.roles().Get(r);
    if (!got.ok()) {
      if (got.status().code() == absl::StatusCode::kNotFound) {
        return absl::InvalidArgumentError(
            fmt::format("unknown role '{}': apply it first with `portcullis roles apply -f`", r));
      }
      return got.status();
    }
  }
  return absl::OkStatus();
}

namespace {

// A new user's or a reset user's credentials: the Argon2id hash of
// `password` and a fresh TOTP seed, sealed for the store.
struct Credentials {
  std::string password_hash;
  std::string totp_seed_sealed;
  SecretBytes seed;
};

absl::StatusOr<Credentials> MintCredentials(Broker& b, std::string_view name,
                                            const SecretBytes& password) {
  if (auto st = auth::CheckPasswordAcceptable(password); !st.ok()) return st;
  auth::Argon2Params params;
  params.m_cost_kib = b.config().argon2_memory_kib;
  params.t_cost = b.config().argon2_iterations;
  auto hash = auth::HashPassword(password, params);
  if (!hash.ok()) return hash.status();
  Credentials c;
  c.seed = auth::GenerateTotpSeed();
  auto sealed = b.secret_box().Seal(c.seed, Authenticator::SeedAad(name));
  if (!sealed.ok()) return sealed.status();
  c.password_hash = std::move(*hash);
  c.totp_seed_sealed = std::move(*sealed);
  return c;
}

}  // namespace

absl::StatusOr<NewUser> CreateUser(Broker& b, std::string_view name, const SecretBytes& password,
                                   const std::vector<std::string>& roles, const Actor& actor) {
  if (auto st = ValidateUserName(name); !st.ok()) return st;
  if (auto st = ValidateRoleNames(b, roles); !st.ok()) return st;
  auto cred = MintCredentials(b, name, password);
  if (!cred.ok()) return cred.status();

  NewUser out;
  out.record.name = std::string(name);
  out.record.password_hash = cred->password_hash;
  out.record.totp_seed_sealed = cred->totp_seed_sealed;
  out.record.roles = roles;
  out.record.created_at = b.clock()->NowUnix();
  if (auto st = b.users().Create(out.record); !st.ok()) return st;
  out.otpauth_uri = auth::OtpauthUri(b.config().issuer, name, cred->seed);

  if (auto st = AuditSuccess(b, actor, "admin.user_add", std::string(name), {{"roles", roles}});
      !st.ok())
    return st;
  return out;
}

absl::StatusOr<std::string> ResetUser(Broker& b, std::string_view name,
                                      const SecretBytes& password, const Actor& actor,
                                      const std::function<nlohmann::json()>& details) {
  if (auto st = auth::CheckPasswordAcceptable(password); !st.ok()) return st;
  auto rec = b.users().Get(name);
  if (!rec.ok()) return rec.status();
  auto cred = MintCredentials(b, name, password);
  if (!cred.ok()) return cred.status();
  auto generation =
      b.users().ResetCredentials(name, cred->password_hash, cred->totp_seed_sealed);
  if (!generation.ok()) return generation.status();
  if (auto st = b.tokens().RevokeUser(name); !st.ok()) return st;
  (void)b.users().ClearAuthFailures(name);
  nlohmann::json d = details ? details() : nlohmann::json::object();
  d["login_generation"] = *generation;
  if (auto st = AuditSuccess(b, actor, "admin.user_reset", std::string(name), std::move(d));
      !st.ok())
    return st;
  return auth::OtpauthUri(b.config().issuer, name, cred->seed);
}

absl::StatusOr<std::string> ResetTotp(Broker& b, std::string_view name, const Actor& actor,
                                      const std::function<nlohmann::json()>& details) {
  auto rec = b.users().Get(name);
  if (!rec.ok()) return rec.status();
  SecretBytes seed = auth::GenerateTotpSeed();
  auto sealed = b.secret_box().Seal(seed, Authenticator::SeedAad(name));
  if (!sealed.ok()) return sealed.status();
  auto generation = b.users().SetTotpSeed(name, *sealed);
  if (!generation.ok()) return generation.status();
  if (auto st = b.tokens().RevokeUser(name); !st.ok()) return st;
  nlohmann::json d = details ? details() : nlohmann::json::object();
  d["login_generation"] = *generation;
  if (auto st = AuditSuccess(b, actor, "admin.totp_reset", std::string(name), std::move(d));
      !st.ok())
    return st;
  return auth::OtpauthUri(b.config().issuer, name, seed);
}

}  // namespace portcullis::core
