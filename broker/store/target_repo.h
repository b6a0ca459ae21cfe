#pragma once
// TargetRepo: the systems users reach through the broker (PLCs, HMIs,
// engineering workstations). Thread-safe via the Database lock; `db` is not
// owned and must outlive the repo. Vaulted secrets (target_secrets) are
// opaque sealed bytes here and never appear in an error message; only
// GetSealedSecret returns them (for the Authority, which opens them).

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
  // How the broker logs in: "certificate" (its CA), a vaulted "password"
  // or "key" (target_secrets), or "none" (a VNC target without
  // authentication).
  std::string auth = "certificate";
  std::string vaulted_secret_sealed;  // unused (superseded by target_secrets)
  int64_t created_at = 0;             // unix seconds; 0 on Create() = now
};

// What may be shown about a vaulted secret: never its bytes.
struct TargetSecretInfo {
  std::string target;
  std::string login;   // "" for a secret without a login (VNC)
  std::string kind;    // password | key
  std::string domain;  // RDP; "" otherwise
  int64_t set_at = 0;  // unix seconds; 0 on SetSecret() = now
  std::string set_by;  // the admin who set it
};

// A vaulted secret row with its sealed bytes (SecretBox output).
struct TargetSecretRecord {
  TargetSecretInfo info;
  std::string sealed;
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

  // Stores (or replaces) the secret of (target, login). NotFound if there
  // is no such target; InvalidArgument for an unknown kind, an empty or
  // oversized sealed value or an oversized login/domain.
  [[nodiscard]] absl::Status SetSecret(const TargetSecretRecord& s);
  // NotFound if (target, login) has no secret.
  [[nodiscard]] absl::Status RemoveSecret(std::string_view target, std::string_view login);
  // The target's secrets without their bytes, sorted by login. Empty for a
  // target without secrets (or without a row).
  [[nodiscard]] absl::StatusOr<std::vector<TargetSecretInfo>> ListSecretInfo(
      std::string_view target);
  // The sealed row of (target, login); NotFound if none.
  [[nodiscard]] absl::StatusOr<TargetSecretRecord> GetSealedSecret(std::string_view target,
                                                                   std::string_view login);

 private:
  Database* db_;
};

// True for "ssh", "rdp", "vnc" and "tcp".
bool IsKnownProtocol(std::string_view protocol);
// True for "certificate", "password", "key" and "none".
bool IsKnownTargetAuth(std::string_view auth);

}  // namespace portcullis::store
