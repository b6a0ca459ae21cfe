#include "broker/api/api_common.h"
#include "broker/api/services.h"

namespace portcullis::api {

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
  auto token = b_.tokens().Issue(id->user);
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
