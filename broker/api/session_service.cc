#include <fmt/format.h>

#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/common/printable.h"

namespace portcullis::api {
namespace {

constexpr size_t kMaxSessionIdBytes = 64;

void FillSession(const session::SessionSnapshot& s, v1::Session* out) {
  out->set_id(s.info.id);
  out->set_user(s.info.user);
  out->set_login(s.info.login);
  out->set_target(s.info.target);
  out->set_protocol(s.info.protocol);
  out->set_source(s.info.source);
  SetTimestamp(ToUnix(s.info.started), out->mutable_started_at());
  out->set_bytes_up(s.bytes_up);
  out->set_bytes_down(s.bytes_down);
  if (s.info.deadline) SetTimestamp(ToUnix(*s.info.deadline), out->mutable_deadline());
}

absl::Status NoSuchSession(std::string_view id) {
  return absl::NotFoundError(fmt::format("no live session {}", Printable(id)));
}

}  // namespace

grpc::Status SessionServiceImpl::ListSessions(grpc::ServerContext* ctx,
                                              const v1::ListSessionsRequest*,
                                              v1::ListSessionsResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  for (const auto& s : b_.sessions().List()) {
    if (!caller->identity.admin && s.info.user != caller->identity.user) continue;
    FillSession(s, resp->add_sessions());
  }
  return grpc::Status::OK;
}

// Only asks the registry: the session's own thread closes both connections.
grpc::Status SessionServiceImpl::KillSession(grpc::ServerContext* ctx,
                                             const v1::KillSessionRequest* req,
                                             v1::KillSessionResponse*) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  const std::string& id = req->id();
  if (id.empty() || id.size() > kMaxSessionIdBytes) return ToGrpc(NoSuchSession(id));
  auto snap = b_.sessions().Get(id);
  if (!snap) return ToGrpc(NoSuchSession(id));
  // The session may end by itself between Get and Kill: then Kill says
  // NotFound and nothing was killed, so nothing is audited.
  if (auto st = b_.sessions().Kill(
          id, fmt::format("portcullis: session ended by administrator {}.", caller->identity.user));
      !st.ok()) {
    return ToGrpc(absl::IsNotFound(st) ? NoSuchSession(id) : st);
  }
  return ToGrpc(AuditChange(b_, *caller, "session.kill", id,
                            {{"user", snap->info.user},
                             {"login", snap->info.login},
                             {"target", snap->info.target},
                             {"protocol", snap->info.protocol},
                             {"source", snap->info.source}}));
}

}  // namespace portcullis::api
