// AccessService: one-time connection tickets for graphical targets.
#include <fmt/format.h>

#include "broker/api/api_common.h"
#include "broker/api/services.h"

namespace portcullis::api {

grpc::Status AccessServiceImpl::Access(grpc::ServerContext* ctx, const v1::AccessRequest* req,
                                       v1::AccessResponse* resp) {
  // Any logged-in user: API tokens are only issued after password + TOTP.
  auto caller = Authorize(ctx, b_, api::Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  const core::Identity& who = caller->identity;
  auto source = core::PeerAddress(caller->peer);
  if (!source.ok()) {
    return ToGrpc(absl::FailedPreconditionError(
        "portcullis: the broker cannot tell the address this request came from, and a ticket "
        "is bound to it"));
  }

  session::AdmissionRequest ar;
  ar.user = who.user;
  ar.roles = who.roles;
  ar.source = caller->peer;
  ar.target = req->target();
  ar.login = req->login();
  ar.protocol = policy::Protocol::kVnc;
  // Which protocol: the target's, if the caller may see it. A target that
  // does not exist or is not visible goes to admission as vnc, which denies
  // it with the same line either way.
  auto target = b_.target_directory().Get(req->target());
  if (target.ok()) {
    auto proto = policy::ParseProtocol(target->protocol);
    const bool visible =
        proto.ok() && b_.authority().CanSee(who.roles, policy::TargetInfo{target->name,
                                                                          target->labels, *proto});
    if (visible && *proto != policy::Protocol::kVnc) {
      if (*proto == policy::Protocol::kRdp) {
        return ToGrpc(absl::FailedPreconditionError(fmt::format(
            "portcullis: {} is an rdp target, and RDP tickets are not available yet",
            target->name)));
      }
      return ToGrpc(absl::InvalidArgumentError(fmt::format(
          "portcullis: {} is an {} target: `portcullis access` is for vnc targets{}",
          target->name, target->protocol,
          *proto == policy::Protocol::kSsh ? "; connect with ssh through the broker" : "")));
    }
  }
  if (!req->login().empty()) {
    return ToGrpc(absl::InvalidArgumentError(
        "portcullis: VNC has no login: drop --login (the broker logs in with the vaulted password)"));
  }
  const auto& listen = b_.config().vnc;
  if (!listen.enabled()) {
    return ToGrpc(absl::FailedPreconditionError(
        "portcullis: this broker's VNC listener is off (listen.vnc); no ticket was issued"));
  }
  auto admitted = b_.admitter().Admit(ar);
  if (!admitted.ok()) return ToGrpc(admitted.status());

  core::TicketRequest tr;
  tr.user = who.user;
  tr.roles = who.roles;
  tr.target = admitted->target.name;
  tr.login = "";  // VNC has none
  tr.protocol = policy::Protocol::kVnc;
  tr.source = *source;
  tr.decision = admitted->decision;
  auto issued = b_.tickets().Issue(tr);
  if (!issued.ok()) return ToGrpc(issued.status());
  const session::TicketGrant& g = issued->grant;
  resp->set_ticket(std::string(issued->ticket.Reveal()));
  issued->ticket.Clear();
  resp->set_ticket_id(g.ticket_id);
  resp->set_target(g.target);
  resp->set_protocol(ToProto(g.protocol));
  resp->set_login(g.login);
  resp->set_source(g.source);
  SetTimestamp(ToUnix(g.expires), resp->mutable_expires_at());
  resp->set_ttl_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(g.expires - g.issued).count());
  resp->set_listen_host(listen.host);
  resp->set_listen_port(listen.port);
  return grpc::Status::OK;
}

}  // namespace portcullis::api
