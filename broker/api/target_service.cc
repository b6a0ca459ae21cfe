#include <fmt/format.h>

#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/core/target_validation.h"

namespace portcullis::api {
namespace {

absl::StatusOr<policy::Protocol> ProtocolOf(const store::TargetRecord& t) {
  return policy::ParseProtocol(t.protocol);
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
  if (!req->host_key().empty()) {
    if (*protocol != policy::Protocol::kSsh) {
      return ToGrpc(absl::InvalidArgumentError("--host-key applies to ssh targets only"));
    }
    auto key = core::NormaliseHostKeyLine(req->host_key());
    if (!key.ok()) return ToGrpc(key.status());
    t.host_key = *key;
  }
  if (req->crypto() == v1::CRYPTO_PROFILE_LEGACY) {
    if (*protocol != policy::Protocol::kSsh) {
      return ToGrpc(absl::InvalidArgumentError("--crypto legacy applies to ssh targets only"));
    }
    t.crypto_profile = "legacy";
  }
  t.created_at = b_.clock()->NowUnix();
  if (auto st = b_.targets().Create(t); !st.ok()) return ToGrpc(st);
  nlohmann::json labels = t.labels;
  if (auto st = AuditChange(b_, *caller, "admin.target_add", t.name,
                            {{"address", t.address},
                             {"protocol", t.protocol},
                             {"labels", labels},
                             {"host_key", t.host_key.empty() ? "trust-on-first-use" : t.host_key},
                             {"crypto", t.crypto_profile}});
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
    if (req->weak_crypto() && t.crypto_profile != "legacy") continue;
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

}  // namespace portcullis::api
