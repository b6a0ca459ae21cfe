#include "broker/api/api_common.h"

#include <algorithm>
#include <string_view>

namespace portcullis::api {

absl::StatusOr<Caller> Authorize(grpc::ServerContext* ctx, core::Broker& broker, Access access) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError("not logged in: run `portcullis login`");
  }
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.substr(0, kPrefix.size()) != kPrefix) {
    return absl::UnauthenticatedError("malformed authorization header");
  }
  auto info = broker.tokens().Validate(value.substr(kPrefix.size()));
  if (!info.ok()) {
    return absl::UnauthenticatedError("session expired or revoked: run `portcullis login`");
  }
  Caller c;
  c.identity = info->identity;
  c.token_hash = info->token_hash;
  c.token_expires_at = info->expires_at;
  c.peer = ctx->peer();
  if (access == Access::kAdmin && !c.identity.admin) {
    return absl::PermissionDeniedError("this needs the admin role");
  }
  if (access == Access::kReviewer && !IsReviewer(c.identity)) {
    return absl::PermissionDeniedError("this needs the auditor or admin role");
  }
  return c;
}

bool IsReviewer(const core::Identity& id) {
  return id.admin || std::find(id.roles.begin(), id.roles.end(), core::kAuditorRole) != id.roles.end();
}

grpc::Status ToGrpc(const absl::Status& st) {
  if (st.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}

core::Actor ActorOf(const Caller& c) { return core::Actor{c.identity.user, c.peer}; }

absl::Status AuditChange(core::Broker& b, const Caller& c, std::string type, std::string subject,
                         nlohmann::json details) {
  return core::AuditSuccess(b, ActorOf(c), std::move(type), std::move(subject), std::move(details));
}

void SetTimestamp(int64_t unix_seconds, google::protobuf::Timestamp* ts) {
  ts->set_seconds(unix_seconds);
  ts->set_nanos(0);
}

v1::Protocol ToProto(policy::Protocol p) {
  switch (p) {
    case policy::Protocol::kSsh: return v1::PROTOCOL_SSH;
    case policy::Protocol::kRdp: return v1::PROTOCOL_RDP;
    case policy::Protocol::kVnc: return v1::PROTOCOL_VNC;
    case policy::Protocol::kTcp: return v1::PROTOCOL_TCP;
  }
  return v1::PROTOCOL_UNSPECIFIED;
}

absl::StatusOr<policy::Protocol> FromProto(v1::Protocol p) {
  switch (p) {
    case v1::PROTOCOL_SSH: return policy::Protocol::kSsh;
    case v1::PROTOCOL_RDP: return policy::Protocol::kRdp;
    case v1::PROTOCOL_VNC: return policy::Protocol::kVnc;
    case v1::PROTOCOL_TCP: return policy::Protocol::kTcp;
    default: return absl::InvalidArgumentError("protocol must be ssh, rdp, vnc or tcp");
  }
}

}  // namespace portcullis::api
