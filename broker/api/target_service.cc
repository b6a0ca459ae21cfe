#include <fmt/format.h>

#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/core/target_validation.h"
#include "broker/core/target_vault.h"

namespace portcullis::api {
namespace {

absl::StatusOr<policy::Protocol> ProtocolOf(const store::TargetRecord& t) {
  return policy::ParseProtocol(t.protocol);
}

v1::TargetAuth AuthToProto(std::string_view auth) {
  if (auth == "password") return v1::TARGET_AUTH_PASSWORD;
  if (auth == "key") return v1::TARGET_AUTH_KEY;
  if (auth == "none") return v1::TARGET_AUTH_NONE;
  return v1::TARGET_AUTH_CERTIFICATE;
}

// The target's auth mode; unspecified = certificate, for vnc password.
// vnc takes password or none only; none is for vnc only.
absl::StatusOr<std::string> AuthFromProto(v1::TargetAuth auth, policy::Protocol protocol) {
  const bool vnc = protocol == policy::Protocol::kVnc;
  switch (auth) {
    case v1::TARGET_AUTH_UNSPECIFIED: return std::string(vnc ? "password" : "certificate");
    case v1::TARGET_AUTH_CERTIFICATE:
      if (vnc)
        return absl::InvalidArgumentError(
            "vnc targets take --auth password (VncAuth with a vaulted password) or --auth none");
      return std::string("certificate");
    case v1::TARGET_AUTH_PASSWORD: return std::string("password");
    case v1::TARGET_AUTH_KEY:
      if (vnc)
        return absl::InvalidArgumentError(
            "vnc targets take --auth password (VncAuth with a vaulted password) or --auth none");
      return std::string("key");
    case v1::TARGET_AUTH_NONE:
      if (!vnc) return absl::InvalidArgumentError("--auth none applies to vnc targets only");
      return std::string("none");
    default:
      return absl::InvalidArgumentError("--auth must be certificate, password, key or none");
  }
}

// Why the broker->target leg of `t` uses weak or no crypto; "" if it does not.
std::string WeakCryptoReason(const store::TargetRecord& t) {
  if (t.protocol == "vnc") {
    // A modern VNC target is reached over VeNCrypt, its certificate pinned.
    if (t.crypto_profile != "legacy") return "";
    if (t.auth == "none")
      return "VNC without authentication (None): unauthenticated and unencrypted "
             "(--crypto modern for VeNCrypt/TLS)";
    return "VNC password (VncAuth): DES challenge-response, unencrypted "
           "(--crypto modern for VeNCrypt/TLS)";
  }
  if (t.crypto_profile == "legacy") return "legacy SSH algorithms (--crypto legacy)";
  return "";
}

void FillSecretInfo(const store::TargetSecretInfo& i, v1::TargetSecretInfo* out) {
  out->set_login(i.login);
  out->set_kind(i.kind == "key" ? v1::SECRET_KIND_KEY : v1::SECRET_KIND_PASSWORD);
  out->set_domain(i.domain);
  SetTimestamp(i.set_at, out->mutable_set_at());
  out->set_set_by(i.set_by);
}

// A login or domain name: printable ASCII without spaces, at most 256 bytes.
absl::Status ValidateAccountName(std::string_view what, std::string_view v) {
  if (v.size() > 256) return absl::InvalidArgumentError(fmt::format("{} is too long", what));
  for (char c : v) {
    if (c <= ' ' || c > '~')
      return absl::InvalidArgumentError(
          fmt::format("{} must be printable ASCII without spaces", what));
  }
  return absl::OkStatus();
}

void FillTarget(const store::TargetRecord& t, v1::Target* out) {
  out->set_name(t.name);
  out->set_address(t.address);
  if (auto p = ProtocolOf(t); p.ok()) out->set_protocol(ToProto(*p));
  for (const auto& [k, v] : t.labels) {
    auto* l = out->add_labels();
    l->set_key(k);
    l->set_value(v);
  }
  out->set_host_key(t.host_key);
  out->set_crypto(t.crypto_profile == "legacy" ? v1::CRYPTO_PROFILE_LEGACY
                                               : v1::CRYPTO_PROFILE_MODERN);
  SetTimestamp(t.created_at, out->mutable_created_at());
  out->set_auth(AuthToProto(t.auth));
  out->set_weak_crypto(WeakCryptoReason(t));
}

bool Visible(core::Broker& b, const Caller& c, const store::TargetRecord& t) {
  if (c.identity.admin) return true;
  auto p = ProtocolOf(t);
  if (!p.ok()) return false;
  return b.authority().CanSee(c.identity.roles, policy::TargetInfo{t.name, t.labels, *p});
}

}  // namespace

grpc::Status TargetServiceImpl::AddTarget(grpc::ServerContext* ctx, const v1::AddTargetRequest* req,
                                          v1::AddTargetResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (auto st = core::ValidateTargetName(req->name()); !st.ok()) return ToGrpc(st);
  auto address = core::NormaliseTargetAddress(req->address());
  if (!address.ok()) return ToGrpc(address.status());
  auto protocol = FromProto(req->protocol());
  if (!protocol.ok()) return ToGrpc(protocol.status());
  store::TargetRecord t;
  t.name = req->name();
  t.address = *address;
  t.protocol = std::string(policy::ProtocolName(*protocol));
  for (const auto& l : req->labels()) {
    if (auto st = core::ValidateLabel(l.key(), l.value()); !st.ok()) return ToGrpc(st);
    if (!t.labels.emplace(l.key(), l.value()).second) {
      return ToGrpc(absl::InvalidArgumentError(fmt::format("label '{}' given twice", l.key())));
    }
  }
  // The crypto of the broker->target leg. SSH: modern unless asked for
  // legacy algorithms. VNC: legacy (the clear: VncAuth or None, flagged
  // weak) unless asked for modern: VeNCrypt with the certificate pinned.
  const bool vnc = *protocol == policy::Protocol::kVnc;
  if (req->crypto() == v1::CRYPTO_PROFILE_LEGACY ||
      (vnc && req->crypto() == v1::CRYPTO_PROFILE_UNSPECIFIED)) {
    if (*protocol != policy::Protocol::kSsh && !vnc) {
      return ToGrpc(
          absl::InvalidArgumentError("--crypto legacy applies to ssh and vnc targets only"));
    }
    t.crypto_profile = "legacy";
  }
  if (!req->host_key().empty()) {
    if (*protocol == policy::Protocol::kSsh) {
      auto key = core::NormaliseHostKeyLine(req->host_key());
      if (!key.ok()) return ToGrpc(key.status());
      t.host_key = *key;
    } else if (vnc && t.crypto_profile != "legacy") {
      auto pin = core::NormaliseCertificatePin(req->host_key());
      if (!pin.ok()) return ToGrpc(pin.status());
      t.host_key = *pin;
    } else {
      return ToGrpc(absl::InvalidArgumentError(
          vnc ? "--host-key of a vnc target pins its TLS certificate: it needs --crypto modern"
              : "--host-key applies to ssh and vnc targets only"));
    }
  }
  auto auth = AuthFromProto(req->auth(), *protocol);
  if (!auth.ok()) return ToGrpc(auth.status());
  if (*auth != "certificate" && *protocol == policy::Protocol::kTcp) {
    return ToGrpc(absl::InvalidArgumentError("tcp targets take no login: --auth certificate"));
  }
  t.auth = *auth;
  t.created_at = b_.clock()->NowUnix();
  if (auto st = b_.targets().Create(t); !st.ok()) return ToGrpc(st);
  nlohmann::json labels = t.labels;
  if (auto st = AuditChange(b_, *caller, "admin.target_add", t.name,
                            {{"address", t.address},
                             {"protocol", t.protocol},
                             {"labels", labels},
                             {"host_key", t.host_key.empty() ? "trust-on-first-use" : t.host_key},
                             {"crypto", t.crypto_profile},
                             {"auth", t.auth}});
      !st.ok())
    return ToGrpc(st);
  FillTarget(t, resp->mutable_target());
  return grpc::Status::OK;
}

grpc::Status TargetServiceImpl::ListTargets(grpc::ServerContext* ctx,
                                            const v1::ListTargetsRequest* req,
                                            v1::ListTargetsResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto all = b_.targets().List();
  if (!all.ok()) return ToGrpc(all.status());
  for (const auto& t : *all) {
    if (req->weak_crypto() && WeakCryptoReason(t).empty()) continue;
    if (!Visible(b_, *caller, t)) continue;
    FillTarget(t, resp->add_targets());
  }
  return grpc::Status::OK;
}

grpc::Status TargetServiceImpl::GetTarget(grpc::ServerContext* ctx, const v1::GetTargetRequest* req,
                                          v1::GetTargetResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto t = b_.targets().Get(req->name());
  // A user learns nothing about targets they may not reach: same answer as
  // for a target that does not exist.
  if (!t.ok() || !Visible(b_, *caller, *t)) {
    if (t.ok() || t.status().code() == absl::StatusCode::kNotFound) {
      return ToGrpc(absl::NotFoundError(fmt::format("no target '{}'", req->name())));
    }
    return ToGrpc(t.status());
  }
  FillTarget(*t, resp->mutable_target());
  if (caller->identity.admin) {
    auto secrets = b_.targets().ListSecretInfo(t->name);
    if (!secrets.ok()) return ToGrpc(secrets.status());
    for (const auto& i : *secrets) FillSecretInfo(i, resp->mutable_target()->add_secrets());
  }
  return grpc::Status::OK;
}

grpc::Status TargetServiceImpl::RemoveTarget(grpc::ServerContext* ctx,
                                             const v1::RemoveTargetRequest* req,
                                             v1::RemoveTargetResponse*) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (auto st = b_.targets().Delete(req->name()); !st.ok()) return ToGrpc(st);
  return ToGrpc(AuditChange(b_, *caller, "admin.target_remove", req->name()));
}

grpc::Status TargetServiceImpl::SetTargetSecret(grpc::ServerContext* ctx,
                                                const v1::SetTargetSecretRequest* req,
                                                v1::SetTargetSecretResponse* resp) {
  // The request's copy of the secret is wiped once it is in a SecretBytes
  // (this call owns the request message).
  std::string* wire = const_cast<v1::SetTargetSecretRequest*>(req)->mutable_secret();
  auto secret = SecretBytes::Take(*wire);
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (!secret.ok()) {
    return ToGrpc(absl::InvalidArgumentError(
        fmt::format("the secret is larger than {} bytes", SecretBytes::kMaxSize)));
  }
  if (auto st = core::ValidateTargetName(req->name()); !st.ok()) return ToGrpc(st);
  if (auto st = ValidateAccountName("--login", req->login()); !st.ok()) return ToGrpc(st);
  if (auto st = ValidateAccountName("--domain", req->domain()); !st.ok()) return ToGrpc(st);
  core::SecretKind kind;
  switch (req->kind()) {
    case v1::SECRET_KIND_PASSWORD: kind = core::SecretKind::kPassword; break;
    case v1::SECRET_KIND_KEY: kind = core::SecretKind::kKey; break;
    default:
      return ToGrpc(absl::InvalidArgumentError("give --password-stdin or --key-file FILE"));
  }
  auto target = b_.targets().Get(req->name());
  if (!target.ok()) {
    if (absl::IsNotFound(target.status()))
      return ToGrpc(absl::NotFoundError(fmt::format("no target '{}'", req->name())));
    return ToGrpc(target.status());
  }
  if (req->login().empty() && target->protocol == "ssh") {
    return ToGrpc(absl::InvalidArgumentError(
        fmt::format("target {} speaks ssh: give the account with --login", req->name())));
  }
  std::string warning;
  if (target->protocol == "vnc") {
    // VNC has no login: the password is vaulted under the empty login,
    // which is what admission opens for a vnc target.
    if (!req->login().empty() || !req->domain().empty()) {
      return ToGrpc(absl::InvalidArgumentError(fmt::format(
          "target {} speaks vnc, which has no login: drop --login and --domain", req->name())));
    }
    if (kind != core::SecretKind::kPassword) {
      return ToGrpc(absl::InvalidArgumentError(fmt::format(
          "target {} speaks vnc: VNC takes a password (--password-stdin), not a key",
          req->name())));
    }
    if (secret.ok() && secret->size() > 8) {
      warning = fmt::format(
          "VNC passwords carry 8 characters: {} will only be checked against the first 8",
          req->name());
    }
  }
  core::SetTargetSecretRequest set;
  set.target = req->name();
  set.login = req->login();
  set.domain = req->domain();
  set.kind = kind;
  set.set_by = caller->identity.user;
  set.now = b_.clock()->NowUnix();
  if (auto st = core::SetTargetSecret(b_.targets(), b_.secret_box(), set, *secret); !st.ok())
    return ToGrpc(st);
  secret->Clear();
  if (auto st = AuditChange(b_, *caller, "target.secret_set", set.target,
                            {{"login", set.login},
                             {"kind", std::string(core::SecretKindName(kind))},
                             {"domain", set.domain}});
      !st.ok())
    return ToGrpc(st);
  store::TargetSecretInfo info;
  info.target = set.target;
  info.login = set.login;
  info.kind = std::string(core::SecretKindName(kind));
  info.domain = set.domain;
  info.set_at = set.now;
  info.set_by = set.set_by;
  FillSecretInfo(info, resp->mutable_secret());
  resp->set_warning(warning);
  return grpc::Status::OK;
}

grpc::Status TargetServiceImpl::RemoveTargetSecret(grpc::ServerContext* ctx,
                                                   const v1::RemoveTargetSecretRequest* req,
                                                   v1::RemoveTargetSecretResponse*) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto target = b_.targets().Get(req->name());
  if (!target.ok()) {
    if (absl::IsNotFound(target.status()))
      return ToGrpc(absl::NotFoundError(fmt::format("no target '{}'", req->name())));
    return ToGrpc(target.status());
  }
  auto secrets = b_.targets().ListSecretInfo(req->name());
  if (!secrets.ok()) return ToGrpc(secrets.status());
  std::string kind;
  for (const auto& i : *secrets) {
    if (i.login == req->login()) kind = i.kind;
  }
  if (auto st = b_.targets().RemoveSecret(req->name(), req->login()); !st.ok()) return ToGrpc(st);
  return ToGrpc(AuditChange(b_, *caller, "target.secret_removed", req->name(),
                            {{"login", req->login()}, {"kind", kind}}));
}

}  // namespace portcullis::api
