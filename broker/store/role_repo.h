#pragma once
// RoleRepo: role definitions, stored as their canonical YAML text. The store
// does not parse them (the policy library does). Thread-safe via the Database
// lock; `db` is not owned and must outlive the repo.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/database.h"

namespace portcullis::store {

struct RoleRecord {
  std::string name;
  std::string yaml;
  int64_t updated_at = 0;  // unix seconds; 0 on PutAll() = now
};

class RoleRepo {
 public:
  explicit RoleRepo(Database* db);

  // Inserts or replaces every role in ONE transaction: all or nothing. An
  // invalid record (empty/over-long name, YAML over 1 MiB) fails the whole
  // batch with InvalidArgument and leaves the previous roles untouched.
  [[nodiscard]] absl::Status PutAll(const std::vector<RoleRecord>& roles);
  [[nodiscard]] absl::StatusOr<RoleRecord> Get(std::string_view name);  // NotFound
  // All roles, sorted by name.
  [[nodiscard]] absl::StatusOr<std::vector<RoleRecord>> List();
  // NotFound if absent. Users that name the role keep the name.
  [[nodiscard]] absl::Status Delete(std::string_view name);

 private:
  Database* db_;
};

}  // namespace portcullis::store
