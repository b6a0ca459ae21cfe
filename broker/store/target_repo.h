#pragma once
// TargetRepo: the systems users reach through the broker (PLCs, HMIs,
// engineering workstations). Thread-safe via the Database lock; `db` is not
// owned and must outlive the repo. The vaulted secret is opaque sealed bytes
// and never appears in an error message.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/database.h"

namespace portcullis::store {

struct TargetRecord {
  std::string name;
  std::string address;   // HOST:PORT
  std::string protocol;  // ssh | rdp | vnc | tcp
  std::map<std::string, std::string> labels;  // UTF-8 keys and values
  std::string host_key;  // pinned host key line or cert fingerprint; "" = TOFU pending
  std::string crypto_profile = "modern";
  std::string vaulted_secret_sealed;  // opaque (rdp/vnc passwords, later)
  int64_t created_at = 0;             // unix seconds; 0 on Create() = now
};

class TargetRepo {
 public:
  explicit TargetRepo(Database* db);

  // AlreadyExists; InvalidArgument on an empty name/address, an unknown
  // protocol or labels that are not valid UTF-8.
  [[nodiscard]] absl::Status Create(const TargetRecord& t);
  [[nodiscard]] absl::StatusOr<TargetRecord> Get(std::string_view name);  // NotFound
  // All targets, sorted by name.
  [[nodiscard]] absl::StatusOr<std::vector<TargetRecord>> List();
  // Replaces every field but created_at. NotFound if absent.
  [[nodiscard]] absl::Status Update(const TargetRecord& t);
  [[nodiscard]] absl::Status Delete(std::string_view name);  // NotFound if absent
  // Trust on first use, atomically: stores `host_key` iff none is pinned yet.
  // OK if the same key is already pinned; FailedPrecondition if a different
  // one is (the caller must block the connection); NotFound if no target.
  [[nodiscard]] absl::Status PinHostKey(std::string_view name, std::string_view host_key);

 private:
  Database* db_;
};

// True for "ssh", "rdp", "vnc" and "tcp".
bool IsKnownProtocol(std::string_view protocol);

}  // namespace portcullis::store
