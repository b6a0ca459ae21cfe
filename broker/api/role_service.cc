#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "auth/policy/role_parser.h"
#include "broker/api/api_common.h"
#include "broker/api/services.h"

namespace portcullis::api {

grpc::Status RoleServiceImpl::ApplyRoles(grpc::ServerContext* ctx, const v1::ApplyRolesRequest* req,
                                         v1::ApplyRolesResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  std::string filename = req->filename().empty() ? "role.yaml" : req->filename();
  if (filename.size() > 256) filename.resize(256);
  auto roles = policy::ParseRolesYaml(req->yaml(), filename);
  if (!roles.ok()) return ToGrpc(roles.status());
  if (roles->empty()) {
    return ToGrpc(absl::InvalidArgumentError(fmt::format("{}: no role in file", filename)));
  }
  std::vector<store::RoleRecord> rows;
  std::set<std::string> existing;
  for (const auto& role : *roles) {
    if (b_.roles().Get(role.name).ok()) existing.insert(role.name);
    rows.push_back(store::RoleRecord{role.name, policy::RoleToYaml(role), b_.clock()->NowUnix()});
  }
  if (auto st = b_.roles().PutAll(rows); !st.ok()) return ToGrpc(st);
  b_.role_table().Invalidate();
  for (const auto& row : rows) {
    bool updated = existing.count(row.name) > 0;
    (updated ? resp->add_updated() : resp->add_created())->assign(row.name);
    if (auto st = AuditChange(b_, *caller, "admin.role_apply", row.name,
                              {{"change", updated ? "updated" : "created"}, {"yaml", row.yaml}});
        !st.ok())
      return ToGrpc(st);
  }
  return grpc::Status::OK;
}

grpc::Status RoleServiceImpl::ListRoles(grpc::ServerContext* ctx, const v1::ListRolesRequest*,
                                        v1::ListRolesResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto rows = b_.roles().List();
  if (!rows.ok()) return ToGrpc(rows.status());
  for (const auto& r : *rows) {
    auto* out = resp->add_roles();
    out->set_name(r.name);
    out->set_yaml(r.yaml);
    SetTimestamp(r.updated_at, out->mutable_updated_at());
  }
  return grpc::Status::OK;
}

grpc::Status RoleServiceImpl::GetRole(grpc::ServerContext* ctx, const v1::GetRoleRequest* req,
                                      v1::GetRoleResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto r = b_.roles().Get(req->name());
  if (!r.ok()) return ToGrpc(r.status());
  resp->mutable_role()->set_name(r->name);
  resp->mutable_role()->set_yaml(r->yaml);
  SetTimestamp(r->updated_at, resp->mutable_role()->mutable_updated_at());
  return grpc::Status::OK;
}

grpc::Status RoleServiceImpl::DeleteRole(grpc::ServerContext* ctx, const v1::DeleteRoleRequest* req,
                                         v1::DeleteRoleResponse*) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  // Fail closed: a deleted role still named on users would silently grant
  // again if a role of that name were applied later.
  auto users = b_.users().List();
  if (!users.ok()) return ToGrpc(users.status());
  std::string holders;
  for (const auto& u : *users) {
    if (std::find(u.roles.begin(), u.roles.end(), req->name()) != u.roles.end()) {
      holders += (holders.empty() ? "" : ", ") + u.name;
    }
  }
  if (!holders.empty()) {
    return ToGrpc(absl::FailedPreconditionError(fmt::format(
        "role {} is assigned to: {}; remove it from them first (users set-roles)", req->name(),
        holders)));
  }
  if (auto st = b_.roles().Delete(req->name()); !st.ok()) return ToGrpc(st);
  b_.role_table().Invalidate();
  return ToGrpc(AuditChange(b_, *caller, "admin.role_delete", req->name()));
}

}  // namespace portcullis::api
