#include "broker/common/absl_fmt.h"
#include "broker/core/role_table.h"

#include <spdlog/spdlog.h>

#include "auth/policy/role_parser.h"

namespace portcullis::core {

std::shared_ptr<const RoleMap> RoleTable::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_) return cached_;
  auto table = std::make_shared<RoleMap>();
  auto rows = repo_->List();
  if (!rows.ok()) {
    spdlog::error("role table: cannot load roles: {}", rows.status().message());
    return table;  // empty table: everything is denied; not cached
  }
  for (const auto& row : *rows) {
    auto parsed = policy::ParseRolesYaml(row.yaml, "role:" + row.name);
    if (!parsed.ok() || parsed->size() != 1) {
      spdlog::error("role table: stored role {} does not parse; it grants nothing", row.name);
      continue;
    }
    table->emplace(row.name, std::move((*parsed)[0]));
  }
  cached_ = table;
  return cached_;
}

void RoleTable::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

}  // namespace portcullis::core
