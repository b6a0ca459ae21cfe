#include "broker/store/role_repo.h"

#include <fmt/format.h>

#include "broker/common/status_macros.h"
#include "broker/store/validation.h"

namespace portcullis::store {
namespace {

RoleRecord ReadRole(const Statement& st) {
  return RoleRecord{st.ColumnText(0), st.ColumnText(1), st.ColumnInt(2)};
}

absl::Status RoleNotFound(std::string_view name) {
  return absl::NotFoundError(fmt::format("role {} not found", name));
}

}  // namespace

RoleRepo::RoleRepo(Database* db) : db_(db) {}

absl::Status RoleRepo::PutAll(const std::vector<RoleRecord>& roles) {
  const int64_t now = db_->clock()->NowUnix();
  return db_->InTransaction([&]() -> absl::Status {
    for (size_t i = 0; i < roles.size(); ++i) {
      const RoleRecord& r = roles[i];
      // Checked as we go: a bad record after good ones must undo them too.
      absl::Status valid = CheckName("role name", r.name);
      if (valid.ok()) valid = CheckSize("role YAML", r.yaml);
      if (!valid.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("role #{}: {}; no roles were changed", i + 1, std::string(valid.message())));
      }
      PC_ASSIGN_OR_RETURN(
          Statement st,
          db_->Prepare("INSERT INTO roles(name, yaml, updated_at) VALUES (?, ?, ?) "
                       "ON CONFLICT(name) DO UPDATE SET yaml = excluded.yaml, "
                       "updated_at = excluded.updated_at",
                       "put role"));
      st.BindText(1, r.name).BindText(2, r.yaml).BindInt(3, r.updated_at != 0 ? r.updated_at : now);
      PC_RETURN_IF_ERROR(st.Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<RoleRecord> RoleRepo::Get(std::string_view name) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT name, yaml, updated_at FROM roles WHERE name = ?",
                                   "get role"));
  st.BindText(1, name);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return RoleNotFound(name);
  return ReadRole(st);
}

absl::StatusOr<std::vector<RoleRecord>> RoleRepo::List() {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT name, yaml, updated_at FROM roles ORDER BY name",
                                   "list roles"));
  std::vector<RoleRecord> out;
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadRole(st));
  }
  return out;
}

absl::Status RoleRepo::Delete(std::string_view name) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare("DELETE FROM roles WHERE name = ?", "delete role"));
  st.BindText(1, name);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) return RoleNotFound(name);
  return absl::OkStatus();
}

}  // namespace portcullis::store
