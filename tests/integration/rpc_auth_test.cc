// Every RPC of every service, called with a bare gRPC client: without a
// valid token each one (but Login) is UNAUTHENTICATED; with a non-admin's
// token each admin-only one is PERMISSION_DENIED and changes nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "auth/ca/ed25519_key.h"
#include "tests/integration/api_client.h"
#include "tests/integration/broker_fixture.h"
#include "portcullis/v1/audit.grpc.pb.h"
#include "portcullis/v1/auth.grpc.pb.h"
#include "portcullis/v1/ca.grpc.pb.h"
#include "portcullis/v1/keys.grpc.pb.h"
#include "portcullis/v1/policy.grpc.pb.h"
#include "portcullis/v1/roles.grpc.pb.h"
#include "portcullis/v1/sessions.grpc.pb.h"
#include "portcullis/v1/targets.grpc.pb.h"
#include "portcullis/v1/users.grpc.pb.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";
constexpr char kOpsRole[] = "kind: role\nname: ops\nallow:\n  targets: {site: a}\n  protocols: [vnc]\n";

struct Rpc {
  std::string name;
  bool admin_only;
  std::function<grpc::Status(grpc::ClientContext*)> call;
};

// One call of every method but Login and Logout. Admin-only calls ask for
// damaging changes, so a missing check would show in the state afterwards.
std::vector<Rpc> AllRpcs(const std::shared_ptr<grpc::Channel>& ch) {
  std::shared_ptr<v1::AuthService::Stub> auth = v1::AuthService::NewStub(ch);
  std::shared_ptr<v1::UserService::Stub> users = v1::UserService::NewStub(ch);
  std::shared_ptr<v1::RoleService::Stub> roles = v1::RoleService::NewStub(ch);
  std::shared_ptr<v1::TargetService::Stub> targets = v1::TargetService::NewStub(ch);
  std::shared_ptr<v1::PolicyService::Stub> policy = v1::PolicyService::NewStub(ch);
  std::shared_ptr<v1::AuditService::Stub> audit = v1::AuditService::NewStub(ch);
  std::shared_ptr<v1::CaService::Stub> ca = v1::CaService::NewStub(ch);
  std::shared_ptr<v1::SessionService::Stub> sessions = v1::SessionService::NewStub(ch);
  std::shared_ptr<v1::KeyService::Stub> keys = v1::KeyService::NewStub(ch);
  std::vector<Rpc> out;
  out.push_back({"AuthService.WhoAmI", false, [auth](grpc::ClientContext* c) {
                   v1::WhoAmIResponse r;
                   return auth->WhoAmI(c, {}, &r);
                 }});
  out.push_back({"UserService.AddUser", true, [users](grpc::ClientContext* c) {
                   v1::AddUserRequest q;
                   q.set_name("eve");
                   q.set_password("eve-password-long-1");
                   q.add_roles("admin");
                   v1::AddUserResponse r;
                   return users->AddUser(c, q, &r);
                 }});
  out.push_back({"UserService.ListUsers", true, [users](grpc::ClientContext* c) {
                   v1::ListUsersResponse r;
                   return users->ListUsers(c, {}, &r);
                 }});
  out.push_back({"UserService.SetUserRoles", true, [users](grpc::ClientContext* c) {
                   v1::SetUserRolesRequest q;
                   q.set_name("bob");
                   q.add_roles("admin");
                   v1::SetUserRolesResponse r;
                   return users->SetUserRoles(c, q, &r);
                 }});
  out.push_back({"UserService.SetUserDisabled", true, [users](grpc::ClientContext* c) {
                   v1::SetUserDisabledRequest q;
                   q.set_name("alice");
                   q.set_disabled(true);
                   v1::SetUserDisabledResponse r;
                   return users->SetUserDisabled(c, q, &r);
                 }});
  out.push_back({"UserService.ResetTotp", true, [users](grpc::ClientContext* c) {
                   v1::ResetTotpRequest q;
                   q.set_name("alice");
                   v1::ResetTotpResponse r;
                   return users->ResetTotp(c, q, &r);
                 }});
  out.push_back({"UserService.ResetUser", true, [users](grpc::ClientContext* c) {
                   v1::ResetUserRequest q;
                   q.set_name("alice");
                   q.set_password("reset-password-long-1");
                   v1::ResetUserResponse r;
                   return users->ResetUser(c, q, &r);
                 }});
  out.push_back({"UserService.DeleteUser", true, [users](grpc::ClientContext* c) {
                   v1::DeleteUserRequest q;
                   q.set_name("alice");
                   v1::DeleteUserResponse r;
                   return users->DeleteUser(c, q, &r);
                 }});
  out.push_back({"RoleService.ApplyRoles", true, [roles](grpc::ClientContext* c) {
                   v1::ApplyRolesRequest q;
                   q.set_yaml(
                       "kind: role\nname: everything\nallow:\n  targets: {\"*\": \"*\"}\n"
                       "  logins: [root]\n  protocols: [ssh]\n");
                   v1::ApplyRolesResponse r;
                   return roles->ApplyRoles(c, q, &r);
                 }});
  out.push_back({"RoleService.ListRoles", true, [roles](grpc::ClientContext* c) {
                   v1::ListRolesResponse r;
                   return roles->ListRoles(c, {}, &r);
                 }});
  out.push_back({"RoleService.GetRole", true, [roles](grpc::ClientContext* c) {
                   v1::GetRoleRequest q;
                   q.set_name("ops");
                   v1::GetRoleResponse r;
                   return roles->GetRole(c, q, &r);
                 }});
  out.push_back({"RoleService.DeleteRole", true, [roles](grpc::ClientContext* c) {
                   v1::DeleteRoleRequest q;
                   q.set_name("ops");
                   v1::DeleteRoleResponse r;
                   return roles->DeleteRole(c, q, &r);
                 }});
  out.push_back({"TargetService.AddTarget", true, [targets](grpc::ClientContext* c) {
                   v1::AddTargetRequest q;
                   q.set_name("evil");
                   q.set_address("10.6.6.6:22");
                   q.set_protocol(v1::PROTOCOL_SSH);
                   v1::AddTargetResponse r;
                   return targets->AddTarget(c, q, &r);
                 }});
  out.push_back({"TargetService.ListTargets", false, [targets](grpc::ClientContext* c) {
                   v1::ListTargetsResponse r;
                   return targets->ListTargets(c, {}, &r);
                 }});
  out.push_back({"TargetService.GetTarget", false, [targets](grpc::ClientContext* c) {
                   v1::GetTargetRequest q;
                   q.set_name("hmi-1");
                   v1::GetTargetResponse r;
                   grpc::Status st = targets->GetTarget(c, q, &r);
                   // bob's roles do not reach hmi-1: NOT_FOUND is the right answer.
                   return st.error_code() == grpc::StatusCode::NOT_FOUND ? grpc::Status::OK : st;
                 }});
  out.push_back({"TargetService.RemoveTarget", true, [targets](grpc::ClientContext* c) {
                   v1::RemoveTargetRequest q;
                   q.set_name("hmi-1");
                   v1::RemoveTargetResponse r;
                   return targets->RemoveTarget(c, q, &r);
                 }});
  out.push_back({"TargetService.SetTargetSecret", true, [targets](grpc::ClientContext* c) {
                   v1::SetTargetSecretRequest q;
                   q.set_name("hmi-1");
                   q.set_login("admin");
                   q.set_kind(v1::SECRET_KIND_PASSWORD);
                   q.set_secret("rpc-auth-secret");
                   v1::SetTargetSecretResponse r;
                   return targets->SetTargetSecret(c, q, &r);
                 }});
  out.push_back({"TargetService.RemoveTargetSecret", true, [targets](grpc::ClientContext* c) {
                   v1::RemoveTargetSecretRequest q;
                   q.set_name("hmi-1");
                   q.set_login("admin");
                   v1::RemoveTargetSecretResponse r;
                   return targets->RemoveTargetSecret(c, q, &r);
                 }});
  out.push_back({"PolicyService.Check", true, [policy](grpc::ClientContext* c) {
                   v1::CheckRequest q;
                   q.set_user("bob");
                   q.set_target("hmi-1");
                   v1::CheckResponse r;
                   return policy->Check(c, q, &r);
                 }});
  out.push_back({"AuditService.ListEvents", true, [audit](grpc::ClientContext* c) {
                   v1::ListEventsResponse r;
                   return audit->ListEvents(c, {}, &r);
                 }});
  out.push_back({"AuditService.VerifyChain", true, [audit](grpc::ClientContext* c) {
                   v1::VerifyChainResponse r;
                   return audit->VerifyChain(c, {}, &r);
                 }});
  out.push_back({"CaService.ExportCa", false, [ca](grpc::ClientContext* c) {
                   v1::ExportCaRequest q;
                   q.set_kind(v1::CA_KIND_SSH_USER);
                   v1::ExportCaResponse r;
                   return ca->ExportCa(c, q, &r);
                 }});
  out.push_back({"SessionService.ListSessions", false, [sessions](grpc::ClientContext* c) {
                   v1::ListSessionsResponse r;
                   return sessions->ListSessions(c, {}, &r);
                 }});
  out.push_back({"SessionService.KillSession", true, [sessions](grpc::ClientContext* c) {
                   v1::KillSessionRequest q;
                   q.set_id("0123456789ab");
                   v1::KillSessionResponse r;
                   return sessions->KillSession(c, q, &r);
                 }});
  out.push_back({"KeyService.ListKeys", false, [keys](grpc::ClientContext* c) {
                   v1::ListKeysResponse r;
                   return keys->ListKeys(c, {}, &r);
                 }});
  // A key for someone else's account would let its holder in as them.
  out.push_back({"KeyService.AddKey", true, [keys](grpc::ClientContext* c) {
                   v1::AddKeyRequest q;
                   q.set_user("alice");
                   q.set_public_key(ca::Ed25519Key::Generate().AuthorizedKeyLine("evil"));
                   v1::AddKeyResponse r;
                   return keys->AddKey(c, q, &r);
                 }});
  out.push_back({"KeyService.RemoveKey", true, [keys](grpc::ClientContext* c) {
                   v1::RemoveKeyRequest q;
                   q.set_user("alice");
                   q.set_fingerprint("SHA256:x");
                   v1::RemoveKeyResponse r;
                   return keys->RemoveKey(c, q, &r);
                 }});
  out.push_back({"AuthService.Logout", false, [auth](grpc::ClientContext* c) {
                   v1::LogoutResponse r;
                   return auth->Logout(c, {}, &r);
                 }});
  return out;
}

class RpcAuthTest : public BrokerTest {
 protected:
  void SetUpWorld() {
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
    const std::string role = broker().Join("ops.yaml");
    ASSERT_TRUE(WriteWholeFile(role, kOpsRole).ok());
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"roles", "apply", "-f", role},
             {"targets", "add", "hmi-1", "--address", "10.0.0.1:5900", "--protocol", "vnc"}}) {
      CommandResult r = Admin(args);
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
    }
    auto secret = broker().AddUser("bob", kBobPassword, {});
    ASSERT_TRUE(secret.ok()) << secret.status();
    bob_secret_ = *secret;
  }
  std::string bob_secret_;
};

TEST_F(RpcAuthTest, EveryRpcButLoginNeedsAValidToken) {
  ASSERT_NO_FATAL_FAILURE(SetUpWorld());
  auto rpcs = AllRpcs(ApiChannel(broker()));
  // Every method of every service but Login: a new RPC must be added here.
  int methods = 0;
  for (const char* service : {"AuthService", "UserService", "RoleService", "TargetService",
                              "PolicyService", "AuditService", "CaService", "SessionService",
                              "KeyService"}) {
    const auto* d = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        std::string("portcullis.v1.") + service);
    ASSERT_NE(d, nullptr) << service;
    methods += d->method_count();
  }
  ASSERT_EQ(rpcs.size() + 1, static_cast<size_t>(methods));
  const std::vector<std::pair<std::string, std::string>> bad_credentials = {
      {"no authorization header", ""},
      {"unknown token", "Bearer pc1_" + std::string(43, 'A')},
      {"not a bearer token", "Basic YWxpY2U6cGFzcw=="},
      {"empty bearer token", "Bearer "},
  };
  for (const auto& [what, header] : bad_credentials) {
    for (const auto& rpc : rpcs) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (!header.empty()) ctx.AddMetadata("authorization", header);
      grpc::Status st = rpc.call(&ctx);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << rpc.name << " with " << what << ": " << Describe(st);
    }
  }
  // Login is the exception.
  auto auth = v1::AuthService::NewStub(ApiChannel(broker()));
  v1::LoginRequest req;
  req.set_user("bob");
  req.set_password(kBobPassword);
  req.set_totp_code(TotpCode(bob_secret_, 0));
  v1::LoginResponse resp;
  auto ctx = ApiContext();
  grpc::Status st = auth->Login(ctx.get(), req, &resp);
  EXPECT_TRUE(st.ok()) << Describe(st);
  EXPECT_FALSE(resp.token().empty());
}

TEST_F(RpcAuthTest, NonAdminGetsPermissionDeniedAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(SetUpWorld());
  auto ch = ApiChannel(broker());
  auto auth = v1::AuthService::NewStub(ch);
  v1::LoginRequest req;
  req.set_user("bob");
  req.set_password(kBobPassword);
  req.set_totp_code(TotpCode(bob_secret_, 0));
  v1::LoginResponse login;
  auto lctx = ApiContext();
  grpc::Status st = auth->Login(lctx.get(), req, &login);
  ASSERT_TRUE(st.ok()) << Describe(st);
  ASSERT_FALSE(login.admin());
  const std::string token = login.token();

  int admin_only = 0;
  for (const auto& rpc : AllRpcs(ch)) {
    if (rpc.name == "AuthService.Logout") continue;  // below, last
    auto ctx = ApiContext(token);
    grpc::Status s = rpc.call(ctx.get());
    if (rpc.admin_only) {
      ++admin_only;
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << rpc.name << ": "
                                                                     << Describe(s);
      EXPECT_THAT(s.error_message(), HasSubstr("admin role")) << rpc.name;
    } else {
      EXPECT_TRUE(s.ok()) << rpc.name << ": " << Describe(s);
    }
  }
  EXPECT_EQ(admin_only, 21);

  // Nothing bob asked for happened.
  CommandResult users = Admin({"users", "ls"});
  ASSERT_EQ(users.exit_code, 0) << Describe(users);
  EXPECT_THAT(users.out, ::testing::ContainsRegex("alice +active +admin"));
  EXPECT_THAT(users.out, ::testing::ContainsRegex("bob +active +\n"));
  EXPECT_THAT(users.out, Not(HasSubstr("eve")));
  EXPECT_EQ(Admin({"roles", "ls"}).out, "ops\n");
  CommandResult targets = Admin({"targets", "ls"});
  EXPECT_THAT(targets.out, HasSubstr("hmi-1"));
  EXPECT_THAT(targets.out, Not(HasSubstr("evil")));
  CommandResult alice_keys = Admin({"keys", "ls", "--user", "alice", "--json"});
  ASSERT_EQ(alice_keys.exit_code, 0) << Describe(alice_keys);
  EXPECT_EQ(nlohmann::json::parse(alice_keys.out), nlohmann::json::array());
  CommandResult audit = Admin({"audit", "ls", "--json", "--actor", "bob"});
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  for (const auto& e : nlohmann::json::parse(audit.out)) {
    const std::string type = e["type"].get<std::string>();
    for (const char* prefix : {"admin.", "key.", "session."}) {
      EXPECT_EQ(type.rfind(prefix, 0), std::string::npos) << e.dump();
    }
  }
  // alice's TOTP seed was not reset: her next code still works.
  CommandResult alice = broker().LoginAdmin(1);
  EXPECT_EQ(alice.exit_code, 0) << Describe(alice);

  // bob's own token: Logout works and ends it.
  auto out_ctx = ApiContext(token);
  v1::LogoutResponse out;
  st = auth->Logout(out_ctx.get(), {}, &out);
  EXPECT_TRUE(st.ok()) << Describe(st);
  auto who_ctx = ApiContext(token);
  v1::WhoAmIResponse who;
  st = auth->WhoAmI(who_ctx.get(), {}, &who);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(st);
}

}  // namespace
}  // namespace portcullis::testing
