#include <cstdio>
#include <filesystem>
#include <iostream>

#include "broker/cli/commands.h"
#include "broker/common/files.h"
#include "portcullis/v1/roles.grpc.pb.h"

namespace portcullis::cli {

void RegisterRoleCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* roles = app.add_subcommand("roles", "Manage role policy (admin)");
  roles->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  auto* apply = roles->add_subcommand("apply", "Apply the roles in a YAML file (all or none)");
  apply->add_option("-f,--file", *file, "Role file (YAML; several documents allowed)")->required();
  apply->callback([&ctx, rc, file] {
    auto text = ReadFileBounded(*file, 256 * 1024);
    if (!text.ok()) {
      *rc = CliContext::Fail(text.status());
      return;
    }
    auto stub = ctx.Stub<v1::RoleService>(rc);
    v1::ApplyRolesRequest req;
    req.set_yaml(*text);
    req.set_filename(std::filesystem::path(*file).filename().string());
    v1::ApplyRolesResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ApplyRoles(c, req, &resp); }, rc)) return;
    for (const auto& n : resp.created()) std::cout << "role " << n << " created\n";
    for (const auto& n : resp.updated()) std::cout << "role " << n << " updated\n";
    *rc = kExitOk;
  });

  auto* ls = roles->add_subcommand("ls", "List roles");
  ls->callback([&ctx, rc] {
    auto stub = ctx.Stub<v1::RoleService>(rc);
    v1::ListRolesResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ListRoles(c, {}, &resp); }, rc)) return;
    for (const auto& r : resp.roles()) std::cout << r.name() << "\n";
    *rc = kExitOk;
  });

  auto name = std::make_shared<std::string>();
  auto* show = roles->add_subcommand("show", "Print a role as YAML");
  show->add_option("name", *name, "Role name")->required();
  show->callback([&ctx, rc, name] {
    auto stub = ctx.Stub<v1::RoleService>(rc);
    v1::GetRoleRequest req;
    req.set_name(*name);
    v1::GetRoleResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->GetRole(c, req, &resp); }, rc)) return;
    std::cout << resp.role().yaml();
    *rc = kExitOk;
  });

  auto* rm = roles->add_subcommand("rm", "Delete a role");
  rm->add_option("name", *name, "Role name")->required();
  rm->callback([&ctx, rc, name] {
    auto stub = ctx.Stub<v1::RoleService>(rc);
    v1::DeleteRoleRequest req;
    req.set_name(*name);
    v1::DeleteRoleResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->DeleteRole(c, req, &resp); }, rc)) return;
    std::cout << "role " << *name << " deleted\n";
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
