#include <fmt/format.h>

#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/common/time_format.h"

namespace portcullis::api {

grpc::Status PolicyServiceImpl::Check(grpc::ServerContext* ctx, const v1::CheckRequest* req,
                                      v1::CheckResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto user = b_.users().Get(req->user());
  if (!user.ok()) return ToGrpc(user.status());
  auto target = b_.targets().Get(req->target());
  if (!target.ok()) return ToGrpc(target.status());
  auto target_protocol = policy::ParseProtocol(target->protocol);
  if (!target_protocol.ok()) return ToGrpc(target_protocol.status());

  policy::AccessRequest ar;
  ar.user = user->name;
  ar.role_names = user->roles;
  ar.target = policy::TargetInfo{target->name, target->labels, *target_protocol};
  ar.login = req->login();
  if (req->protocol() == v1::PROTOCOL_UNSPECIFIED) {
    ar.protocol = *target_protocol;
  } else {
    auto p = FromProto(req->protocol());
    if (!p.ok()) return ToGrpc(p.status());
    ar.protocol = *p;
  }
  ar.at = req->has_at() ? FromUnix(req->at().seconds()) : b_.clock()->Now();
  if (!req->tunnel().empty()) ar.tunnel = req->tunnel();
  if (req->transfer() == v1::TRANSFER_DIRECTION_DOWNLOAD) {
    ar.transfer = policy::TransferDirection::kDownload;
  } else if (req->transfer() == v1::TRANSFER_DIRECTION_UPLOAD) {
    ar.transfer = policy::TransferDirection::kUpload;
  }
  if (user->disabled) {
    resp->set_allowed(false);
    resp->set_rule(std::string(policy::kRuleDefaultDeny));
    resp->set_reason(fmt::format("user {} is disabled", user->name));
  } else {
    policy::Decision d = b_.authority().Decide(ar);
    resp->set_allowed(d.allowed);
    resp->set_role(d.role);
    resp->set_rule(d.rule);
    resp->set_reason(d.reason);
    resp->set_login(d.login);
    resp->set_file_transfer(std::string(policy::FileTransferName(d.file_transfer)));
    for (const auto& t : d.tunnels) resp->add_tunnels(t);
    resp->set_max_session_seconds(d.max_session.count());
    resp->set_require_approval(d.require_approval);
    resp->set_record_input(d.record_input);
  }
  audit::AuditEvent ev;
  ev.type = "policy.check";
  ev.actor = caller->identity.user;
  ev.subject = fmt::format("{}->{}", user->name, target->name);
  ev.outcome = resp->allowed() ? "allow" : "deny";
  ev.source = caller->peer;
  ev.details = {{"user", user->name},
                {"target", target->name},
                {"login", req->login()},
                {"protocol", std::string(policy::ProtocolName(ar.protocol))},
                {"at", FormatUtc(ar.at)},
                {"rule", resp->rule()},
                {"role", resp->role()},
                {"reason", resp->reason()}};
  if (auto st = b_.audit().Append(ev); !st.ok()) return ToGrpc(st.status());
  return grpc::Status::OK;
}

}  // namespace portcullis::api
