#pragma once
// RoleTable: the parsed role set, loaded from the RoleRepo and cached until
// Invalidate() (called after every role change). Thread-safe: Snapshot()
// returns an immutable shared table.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "auth/policy/role.h"
#include "broker/store/role_repo.h"

namespace portcullis::core {

using RoleMap = std::map<std::string, policy::Role>;

class RoleTable {
 public:
  explicit RoleTable(store::RoleRepo* repo) : repo_(repo) {}  // repo must outlive this
  // The current table. A stored role that no longer parses is left out (and
  // so grants nothing): fail closed.
  std::shared_ptr<const RoleMap> Snapshot();
  void Invalidate();

 private:
  store::RoleRepo* repo_;
  std::mutex mu_;
  std::shared_ptr<const RoleMap> cached_;
};

}  // namespace portcullis::core
