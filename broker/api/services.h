#pragma once
// The portcullis.v1 gRPC services (sync API). Each RPC authorises first
// (see Authorize), converts errors to grpc::Status only here, and audits
// every change. All hold a Broker& that must outlive them. Thread-safe.

#include "broker/api/api_common.h"
#include "broker/core/broker.h"
#include "portcullis/v1/access.grpc.pb.h"
#include "portcullis/v1/audit.grpc.pb.h"
#include "portcullis/v1/auth.grpc.pb.h"
#include "portcullis/v1/ca.grpc.pb.h"
#include "portcullis/v1/keys.grpc.pb.h"
#include "portcullis/v1/policy.grpc.pb.h"
#include "portcullis/v1/recordings.grpc.pb.h"
#include "portcullis/v1/roles.grpc.pb.h"
#include "portcullis/v1/sessions.grpc.pb.h"
#include "portcullis/v1/targets.grpc.pb.h"
#include "portcullis/v1/users.grpc.pb.h"

namespace portcullis::api {

class AuthServiceImpl final : public v1::AuthService::Service {
 public:
  explicit AuthServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status Login(grpc::ServerContext*, const v1::LoginRequest*, v1::LoginResponse*) override;
  grpc::Status Logout(grpc::ServerContext*, const v1::LogoutRequest*, v1::LogoutResponse*) override;
  grpc::Status WhoAmI(grpc::ServerContext*, const v1::WhoAmIRequest*, v1::WhoAmIResponse*) override;

 private:
  core::Broker& b_;
};

class UserServiceImpl final : public v1::UserService::Service {
 public:
  explicit UserServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status AddUser(grpc::ServerContext*, const v1::AddUserRequest*, v1::AddUserResponse*) override;
  grpc::Status ListUsers(grpc::ServerContext*, const v1::ListUsersRequest*, v1::ListUsersResponse*) override;
  grpc::Status SetUserRoles(grpc::ServerContext*, const v1::SetUserRolesRequest*, v1::SetUserRolesResponse*) override;
  grpc::Status SetUserDisabled(grpc::ServerContext*, const v1::SetUserDisabledRequest*, v1::SetUserDisabledResponse*) override;
  grpc::Status ResetTotp(grpc::ServerContext*, const v1::ResetTotpRequest*, v1::ResetTotpResponse*) override;
  grpc::Status DeleteUser(grpc::ServerContext*, const v1::DeleteUserRequest*, v1::DeleteUserResponse*) override;
  grpc::Status ResetUser(grpc::ServerContext*, const v1::ResetUserRequest*, v1::ResetUserResponse*) override;

 private:
  void FillUser(const store::UserRecord& r, v1::User* u);
  // Ends the user's live sessions at once (disable, delete); returns how many.
  int EndLiveSessions(const std::string& user);
  core::Broker& b_;
};

class RoleServiceImpl final : public v1::RoleService::Service {
 public:
  explicit RoleServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status ApplyRoles(grpc::ServerContext*, const v1::ApplyRolesRequest*, v1::ApplyRolesResponse*) override;
  grpc::Status ListRoles(grpc::ServerContext*, const v1::ListRolesRequest*, v1::ListRolesResponse*) override;
  grpc::Status GetRole(grpc::ServerContext*, const v1::GetRoleRequest*, v1::GetRoleResponse*) override;
  grpc::Status DeleteRole(grpc::ServerContext*, const v1::DeleteRoleRequest*, v1::DeleteRoleResponse*) override;

 private:
  core::Broker& b_;
};

class TargetServiceImpl final : public v1::TargetService::Service {
 public:
  explicit TargetServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status AddTarget(grpc::ServerContext*, const v1::AddTargetRequest*, v1::AddTargetResponse*) override;
  grpc::Status ListTargets(grpc::ServerContext*, const v1::ListTargetsRequest*, v1::ListTargetsResponse*) override;
  grpc::Status GetTarget(grpc::ServerContext*, const v1::GetTargetRequest*, v1::GetTargetResponse*) override;
  grpc::Status RemoveTarget(grpc::ServerContext*, const v1::RemoveTargetRequest*, v1::RemoveTargetResponse*) override;
  grpc::Status SetTargetSecret(grpc::ServerContext*, const v1::SetTargetSecretRequest*, v1::SetTargetSecretResponse*) override;
  grpc::Status RemoveTargetSecret(grpc::ServerContext*, const v1::RemoveTargetSecretRequest*, v1::RemoveTargetSecretResponse*) override;

 private:
  core::Broker& b_;
};

class PolicyServiceImpl final : public v1::PolicyService::Service {
 public:
  explicit PolicyServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status Check(grpc::ServerContext*, const v1::CheckRequest*, v1::CheckResponse*) override;

 private:
  core::Broker& b_;
};

class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  explicit AuditServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status ListEvents(grpc::ServerContext*, const v1::ListEventsRequest*, v1::ListEventsResponse*) override;
  grpc::Status VerifyChain(grpc::ServerContext*, const v1::VerifyChainRequest*, v1::VerifyChainResponse*) override;

 private:
  core::Broker& b_;
};

class CaServiceImpl final : public v1::CaService::Service {
 public:
  explicit CaServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status ExportCa(grpc::ServerContext*, const v1::ExportCaRequest*, v1::ExportCaResponse*) override;

 private:
  core::Broker& b_;
};

class SessionServiceImpl final : public v1::SessionService::Service {
 public:
  explicit SessionServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status ListSessions(grpc::ServerContext*, const v1::ListSessionsRequest*,
                            v1::ListSessionsResponse*) override;
  grpc::Status KillSession(grpc::ServerContext*, const v1::KillSessionRequest*,
                           v1::KillSessionResponse*) override;

 private:
  core::Broker& b_;
};

class KeyServiceImpl final : public v1::KeyService::Service {
 public:
  explicit KeyServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status AddKey(grpc::ServerContext*, const v1::AddKeyRequest*, v1::AddKeyResponse*) override;
  grpc::Status ListKeys(grpc::ServerContext*, const v1::ListKeysRequest*,
                        v1::ListKeysResponse*) override;
  grpc::Status RemoveKey(grpc::ServerContext*, const v1::RemoveKeyRequest*,
                         v1::RemoveKeyResponse*) override;

 private:
  // Whose keys a request is about: the caller (empty `requested` or their
  // own name), or, for an admin, another existing user. PermissionDenied
  // for a non-admin naming someone else; NotFound for an unknown user.
  absl::StatusOr<std::string> Owner(const Caller& caller, const std::string& requested);
  core::Broker& b_;
};

class AccessServiceImpl final : public v1::AccessService::Service {
 public:
  explicit AccessServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status Access(grpc::ServerContext*, const v1::AccessRequest*,
                      v1::AccessResponse*) override;

 private:
  core::Broker& b_;
};

class RecordingServiceImpl final : public v1::RecordingService::Service {
 public:
  explicit RecordingServiceImpl(core::Broker& b) : b_(b) {}
  grpc::Status List(grpc::ServerContext*, const v1::ListRecordingsRequest*,
                    v1::ListRecordingsResponse*) override;
  grpc::Status Read(grpc::ServerContext*, const v1::ReadRecordingRequest*,
                    grpc::ServerWriter<v1::RecordingChunk>*) override;
  grpc::Status Verify(grpc::ServerContext*, const v1::VerifyRecordingRequest*,
                      v1::VerifyRecordingResponse*) override;
  grpc::Status Search(grpc::ServerContext*, const v1::SearchRecordingsRequest*,
                      grpc::ServerWriter<v1::RecordingSearchHit>*) override;
  grpc::Status SetLegalHold(grpc::ServerContext*, const v1::SetLegalHoldRequest*,
                            v1::SetLegalHoldResponse*) override;
  grpc::Status Prune(grpc::ServerContext*, const v1::PruneRecordingsRequest*,
                     v1::PruneRecordingsResponse*) override;

 private:
  core::Broker& b_;
};

}  // namespace portcullis::api
