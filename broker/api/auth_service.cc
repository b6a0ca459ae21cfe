#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "auth/ca/ed25519_key.h"
#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/time_format.h"

namespace portcullis::api {
namespace {

// Names of the ssh targets `id` may see, sorted.
absl::StatusOr<std::vector<std::string>> SshTargets(core::Broker& b, const core::Identity& id) {
  auto all = b.targets().List();
  if (!all.ok()) return all.status();
  std::vector<std::string> out;
  for (const auto& t : *all) {
    if (t.protocol != policy::ProtocolName(policy::Protocol::kSsh)) continue;
    if (b.authority().CanSee(id.roles, policy::TargetInfo{t.name, t.labels, policy::Protocol::kSsh}))
      out.push_back(t.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Mints the login certificate for `key`, audits it and fills `resp`.
absl::Status IssueLoginCertificate(core::Broker& b, const core::Identity& id,
                                   const ca::SshPublicKey& key, const std::string& peer,
                                   v1::LoginResponse* resp) {
  const auto& cfg = b.config();
  auto cert = b.authority().IssueLoginCertificate(
      ca::LoginBinding{id.user, id.user_id, id.login_generation}, key.blob, cfg.login_cert_ttl);
  if (!cert.ok()) return cert.status();
  auto targets = SshTargets(b, id);
  if (!targets.ok()) return targets.status();
  const std::string valid_before = FormatUtc(FromUnix(static_cast<int64_t>(cert->valid_before)));
  if (auto st = core::AuditSuccess(b, core::Actor{id.user, peer}, "ca.login_cert_issued", id.user,
                                   {{"serial", cert->serial},
                                    {"key_id", cert->key_id},
                                    {"key_fingerprint", ca::Fingerprint(key.blob)},
                                    {"valid_before", valid_before}});
      !st.ok())
    return st;
  resp->set_ssh_certificate(cert->line);
  resp->set_ssh_host_key(b.ssh_host_key().AuthorizedKeyLine(""));
  resp->set_ssh_port(cfg.ssh.port);
  for (const auto& t : *targets) resp->add_ssh_targets(t);
  return absl::OkStatus();
}

}  // namespace

grpc::Status AuthServiceImpl::Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                                    v1::LoginResponse* resp) {
  auto password = SecretBytes::FromString(req->password());
  if (!password.ok()) {
    // Over SecretBytes::kMaxSize: audited like any other malformed login.
    password = SecretBytes::FromString("");
    auto id = b_.authenticator().PasswordAndTotp(req->user().substr(0, 65), *password,
                                                 std::string(17, '0'), ctx->peer(), "grpc");
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(core::kInvalidCredentials));
  }
  auto id = b_.authenticator().PasswordAndTotp(req->user(), *password, req->totp_code(),
                                               ctx->peer(), "grpc");
  if (!id.ok()) return ToGrpc(id.status());
  // The key is looked at only now, so a bad one says nothing to a caller
  // without valid credentials; and before the token, so a refused request
  // leaves no token behind.
  std::optional<ca::SshPublicKey> ssh_key;
  if (!req->ssh_public_key().empty()) {
    auto key = ca::ParsePublicKeyLine(req->ssh_public_key());
    if (!key.ok() || req->ssh_public_key()[0] == '\0') {
      return ToGrpc(absl::InvalidArgumentError(fmt::format(
          "ssh_public_key: {}",
          key.ok() ? "want an OpenSSH public key line" : key.status().message())));
    }
    ssh_key = std::move(*key);
  }
  if (ssh_key) {
    if (auto st = IssueLoginCertificate(b_, *id, *ssh_key, ctx->peer(), resp); !st.ok())
      return ToGrpc(st);
  }
  auto token = b_.tokens().Issue(*id);
  if (!token.ok()) return ToGrpc(token.status());
  resp->set_token(std::string(token->token.Reveal()));
  SetTimestamp(token->expires_at, resp->mutable_expires_at());
  resp->set_user(id->user);
  for (const auto& r : id->roles) resp->add_roles(r);
  resp->set_admin(id->admin);
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::Logout(grpc::ServerContext* ctx, const v1::LogoutRequest*,
                                     v1::LogoutResponse*) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (auto st = b_.tokens().Revoke(caller->token_hash); !st.ok()) return ToGrpc(st);
  return ToGrpc(AuditChange(b_, *caller, "auth.logout", caller->identity.user));
}

grpc::Status AuthServiceImpl::WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                                     v1::WhoAmIResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  resp->set_user(caller->identity.user);
  for (const auto& r : caller->identity.roles) resp->add_roles(r);
  resp->set_admin(caller->identity.admin);
  SetTimestamp(caller->token_expires_at, resp->mutable_token_expires_at());
  return grpc::Status::OK;
}

}  // namespace portcullis::api
