#include <openssl/crypto.h>

#include <cstdio>
#include <iostream>

#include "auth/identity/qr.h"
#include "broker/cli/commands.h"
#include "broker/common/terminal.h"
#include "portcullis/v1/users.grpc.pb.h"

namespace portcullis::cli {
namespace {

void PrintEnrolment(const std::string& user, const std::string& uri) {
  std::cout << "TOTP for " << user << " (shown once; add it to an authenticator app):\n  " << uri
            << "\n\n";
  if (auto qr = auth::RenderQrForTerminal(uri); qr.ok()) std::cout << *qr << "\n";
}

void PrintUsers(const google::protobuf::RepeatedPtrField<v1::User>& users) {
  std::printf("%-20s %-8s %-30s\n", "NAME", "STATE", "ROLES");
  for (const auto& u : users) {
    std::string roles;
    for (const auto& r : u.roles()) roles += (roles.empty() ? "" : ",") + r;
    const char* state = u.disabled() ? "disabled" : (u.locked() ? "locked" : "active");
    std::printf("%-20s %-8s %-30s\n", u.name().c_str(), state, roles.c_str());
  }
}

}  // namespace

void RegisterUserCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* users = app.add_subcommand("users", "Manage Portcullis users (admin)");
  users->require_subcommand(1);

  struct AddArgs {
    std::string name;
    std::vector<std::string> roles;
    bool password_stdin = false;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = users->add_subcommand("add", "Create a user; prints their TOTP enrolment");
  add->add_option("name", add_args->name, "User name")->required();
  add->add_option("--role", add_args->roles, "Role to assign (repeatable)");
  add->add_flag("--password-stdin", add_args->password_stdin, "Read the password from stdin");
  add->callback([&ctx, rc, add_args] {
    auto stub = ctx.Stub<v1::UserService>(rc);
    if (!stub) return;
    auto password = ReadNewSecret(add_args->password_stdin);
    if (!password.ok()) {
      *rc = CliContext::Fail(password.status());
      return;
    }
    v1::AddUserRequest req;
    req.set_name(add_args->name);
    req.set_password(std::string(password->Reveal()));
    for (const auto& r : add_args->roles) req.add_roles(r);
    v1::AddUserResponse resp;
    bool ok = ctx.Rpc([&](auto* c) { return stub->AddUser(c, req, &resp); }, rc);
    OPENSSL_cleanse(req.mutable_password()->data(), req.mutable_password()->size());
    if (!ok) return;
    std::cout << "Created user " << resp.user().name() << "\n";
    PrintEnrolment(resp.user().name(), resp.otpauth_uri());
    *rc = kExitOk;
  });

  auto* ls = users->add_subcommand("ls", "List users");
  ls->callback([&ctx, rc] {
    auto stub = ctx.Stub<v1::UserService>(rc);
    v1::ListUsersResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ListUsers(c, {}, &resp); }, rc)) return;
    PrintUsers(resp.users());
    *rc = kExitOk;
  });

  auto name = std::make_shared<std::string>();
  auto roles = std::make_shared<std::vector<std::string>>();
  auto* set_roles = users->add_subcommand("set-roles", "Replace a user's roles");
  set_roles->add_option("name", *name, "User name")->required();
  set_roles->add_option("--role", *roles, "Role (repeatable; none = no roles)");
  set_roles->callback([&ctx, rc, name, roles] {
    auto stub = ctx.Stub<v1::UserService>(rc);
    v1::SetUserRolesRequest req;
    req.set_name(*name);
    for (const auto& r : *roles) req.add_roles(r);
    v1::SetUserRolesResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->SetUserRoles(c, req, &resp); }, rc)) return;
    std::cout << "Roles of " << *name << " set\n";
    *rc = kExitOk;
  });

  for (bool disable : {true, false}) {
    auto* cmd = users->add_subcommand(disable ? "disable" : "enable",
                                      disable ? "Disable a user (revokes their logins)"
                                              : "Enable a disabled user");
    cmd->add_option("name", *name, "User name")->required();
    cmd->callback([&ctx, rc, name, disable] {
      auto stub = ctx.Stub<v1::UserService>(rc);
      v1::SetUserDisabledRequest req;
      req.set_name(*name);
      req.set_disabled(disable);
      v1::SetUserDisabledResponse resp;
      if (!stub || !ctx.Rpc([&](auto* c) { return stub->SetUserDisabled(c, req, &resp); }, rc))
        return;
      std::cout << "User " << *name << (disable ? " disabled\n" : " enabled\n");
      *rc = kExitOk;
    });
  }

  auto* reset = users->add_subcommand("reset-totp", "Issue a new TOTP seed for a user");
  reset->add_option("name", *name, "User name")->required();
  reset->callback([&ctx, rc, name] {
    auto stub = ctx.Stub<v1::UserService>(rc);
    v1::ResetTotpRequest req;
    req.set_name(*name);
    v1::ResetTotpResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ResetTotp(c, req, &resp); }, rc)) return;
    std::cout << "TOTP of " << *name << " reset (" << resp.sessions_ended()
              << " session(s) ended; earlier logins revoked)\n";
    PrintEnrolment(*name, resp.otpauth_uri());
    *rc = kExitOk;
  });

  auto reset_stdin = std::make_shared<bool>(false);
  auto* reset_user = users->add_subcommand(
      "reset", "New password and TOTP for a user; ends their sessions, revokes their logins");
  reset_user->add_option("name", *name, "User name")->required();
  reset_user->add_flag("--password-stdin", *reset_stdin, "Read the new password from stdin");
  reset_user->callback([&ctx, rc, name, reset_stdin] {
    auto stub = ctx.Stub<v1::UserService>(rc);
    if (!stub) return;
    auto password = ReadNewSecret(*reset_stdin);
    if (!password.ok()) {
      *rc = CliContext::Fail(password.status());
      return;
    }
    v1::ResetUserRequest req;
    req.set_name(*name);
    req.set_password(std::string(password->Reveal()));
    v1::ResetUserResponse resp;
    bool ok = ctx.Rpc([&](auto* c) { return stub->ResetUser(c, req, &resp); }, rc);
    OPENSSL_cleanse(req.mutable_password()->data(), req.mutable_password()->size());
    if (!ok) return;
    std::cout << "User " << *name << " reset (" << resp.sessions_ended()
              << " session(s) ended; earlier logins revoked)\n";
    PrintEnrolment(*name, resp.otpauth_uri());
    *rc = kExitOk;
  });

  auto* rm = users->add_subcommand("rm", "Delete a user");
  rm->add_option("name", *name, "User name")->required();
  rm->callback([&ctx, rc, name] {
    auto stub = ctx.Stub<v1::UserService>(rc);
    v1::DeleteUserRequest req;
    req.set_name(*name);
    v1::DeleteUserResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->DeleteUser(c, req, &resp); }, rc)) return;
    std::cout << "User " << *name << " deleted\n";
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
