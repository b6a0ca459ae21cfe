#include <fmt/format.h>

#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/core/user_admin.h"

namespace portcullis::api {

int UserServiceImpl::EndLiveSessions(const std::string& user) {
  return b_.sessions().EndUserSessions(
      user, session::EndReason::kUserDisabled,
      "portcullis: your account was disabled by an administrator; closing.");
}

void UserServiceImpl::FillUser(const store::UserRecord& r, v1::User* u) {
  u->set_name(r.name);
  for (const auto& role : r.roles) u->add_roles(role);
  u->set_disabled(r.disabled);
  u->set_admin(core::HasAdminRole(r.roles));
  SetTimestamp(r.created_at, u->mutable_created_at());
  u->set_locked(b_.authenticator().IsLocked(r.name));
}

grpc::Status UserServiceImpl::AddUser(grpc::ServerContext* ctx, const v1::AddUserRequest* req,
                                      v1::AddUserResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto password = SecretBytes::FromString(req->password());
  if (!password.ok()) return ToGrpc(absl::InvalidArgumentError("password too long"));
  std::vector<std::string> roles(req->roles().begin(), req->roles().end());
  auto created = core::CreateUser(b_, req->name(), *password, roles, ActorOf(*caller));
  if (!created.ok()) return ToGrpc(created.status());
  FillUser(created->record, resp->mutable_user());
  resp->set_otpauth_uri(created->otpauth_uri);
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::ListUsers(grpc::ServerContext* ctx, const v1::ListUsersRequest*,
                                        v1::ListUsersResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto users = b_.users().List();
  if (!users.ok()) return ToGrpc(users.status());
  for (const auto& u : *users) FillUser(u, resp->add_users());
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::SetUserRoles(grpc::ServerContext* ctx,
                                           const v1::SetUserRolesRequest* req,
                                           v1::SetUserRolesResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  std::vector<std::string> roles(req->roles().begin(), req->roles().end());
  if (auto st = core::ValidateRoleNames(b_, roles); !st.ok()) return ToGrpc(st);
  if (req->name() == caller->identity.user && !core::HasAdminRole(roles)) {
    return ToGrpc(absl::FailedPreconditionError("you cannot remove your own admin role"));
  }
  if (auto st = b_.users().SetRoles(req->name(), roles); !st.ok()) return ToGrpc(st);
  if (auto st = AuditChange(b_, *caller, "admin.user_roles", req->name(), {{"roles", roles}});
      !st.ok())
    return ToGrpc(st);
  auto rec = b_.users().Get(req->name());
  if (!rec.ok()) return ToGrpc(rec.status());
  FillUser(*rec, resp->mutable_user());
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::SetUserDisabled(grpc::ServerContext* ctx,
                                              const v1::SetUserDisabledRequest* req,
                                              v1::SetUserDisabledResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (req->name() == caller->identity.user && req->disabled()) {
    return ToGrpc(absl::FailedPreconditionError("you cannot disable yourself"));
  }
  if (auto st = b_.users().SetDisabled(req->name(), req->disabled()); !st.ok()) return ToGrpc(st);
  nlohmann::json details = nlohmann::json::object();
  if (req->disabled()) {
    if (auto st = b_.tokens().RevokeUser(req->name()); !st.ok()) return ToGrpc(st);
    details["sessions_ended"] = EndLiveSessions(req->name());
  }
  if (auto st = AuditChange(b_, *caller, req->disabled() ? "admin.user_disable" : "admin.user_enable",
                           req->name(), std::move(details));
      !st.ok())
    return ToGrpc(st);
  auto rec = b_.users().Get(req->name());
  if (!rec.ok()) return ToGrpc(rec.status());
  FillUser(*rec, resp->mutable_user());
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::ResetTotp(grpc::ServerContext* ctx, const v1::ResetTotpRequest* req,
                                        v1::ResetTotpResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  // As for a reset: the old factor may be in someone else's hands, so what
  // was obtained with it (tokens, login certificates, live sessions) ends.
  int ended = 0;
  auto uri = core::ResetTotp(b_, req->name(), ActorOf(*caller), [&] {
    ended = b_.sessions().EndUserSessions(
        req->name(), session::EndReason::kKilled,
        "portcullis: your second factor was reset by an administrator; closing.");
    return nlohmann::json{{"sessions_ended", ended}};
  });
  if (!uri.ok()) return ToGrpc(uri.status());
  resp->set_otpauth_uri(*uri);
  resp->set_sessions_ended(ended);
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::ResetUser(grpc::ServerContext* ctx, const v1::ResetUserRequest* req,
                                        v1::ResetUserResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto password = SecretBytes::FromString(req->password());
  if (!password.ok()) return ToGrpc(absl::InvalidArgumentError("password too long"));
  // Sessions end after the generation moved on, so none can be re-opened
  // with an old certificate in between.
  int ended = 0;
  auto uri = core::ResetUser(b_, req->name(), *password, ActorOf(*caller), [&] {
    ended = b_.sessions().EndUserSessions(
        req->name(), session::EndReason::kKilled,
        "portcullis: your account was reset by an administrator; closing.");
    return nlohmann::json{{"sessions_ended", ended}};
  });
  if (!uri.ok()) return ToGrpc(uri.status());
  auto rec = b_.users().Get(req->name());
  if (!rec.ok()) return ToGrpc(rec.status());
  FillUser(*rec, resp->mutable_user());
  resp->set_otpauth_uri(*uri);
  resp->set_sessions_ended(ended);
  return grpc::Status::OK;
}

grpc::Status UserServiceImpl::DeleteUser(grpc::ServerContext* ctx, const v1::DeleteUserRequest* req,
                                         v1::DeleteUserResponse*) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (req->name() == caller->identity.user) {
    return ToGrpc(absl::FailedPreconditionError("you cannot delete yourself"));
  }
  if (auto st = b_.tokens().RevokeUser(req->name()); !st.ok()) return ToGrpc(st);
  if (auto st = b_.users().Delete(req->name()); !st.ok()) return ToGrpc(st);
  const int ended = EndLiveSessions(req->name());
  return ToGrpc(
      AuditChange(b_, *caller, "admin.user_delete", req->name(), {{"sessions_ended", ended}}));
}

}  // namespace portcullis::api
