#pragma once
// UserRepo: Portcullis users (password hash, sealed TOTP seed, roles) and
// the per-name authentication-failure log used for lockout. Thread-safe via
// the Database lock; `db` is not owned and must outlive the repo.
//
// Secrets: password hashes and sealed seeds are stored as given and are never
// logged or put in an error message (messages name the user only).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/database.h"

namespace portcullis::store {

struct UserRecord {
  int64_t id = 0;                // assigned by Create(); ignored on input
  std::string name;
  std::string password_hash;     // encoded hash (e.g. argon2id PHC string)
  std::string totp_seed_sealed;  // opaque bytes (BLOB), sealed by the caller
  int64_t totp_last_counter = -1;
  bool disabled = false;
  std::vector<std::string> roles;  // role names, order kept, duplicates dropped
  int64_t created_at = 0;          // unix seconds; 0 on Create() = now
};

class UserRepo {
 public:
  explicit UserRepo(Database* db);

  // AlreadyExists("user bob already exists"); InvalidArgument on an empty or
  // over-long name or role name.
  [[nodiscard]] absl::Status Create(const UserRecord& u);
  [[nodiscard]] absl::StatusOr<UserRecord> Get(std::string_view name);  // NotFound
  // All users, sorted by name.
  [[nodiscard]] absl::StatusOr<std::vector<UserRecord>> List();
  // Replaces the user's roles. NotFound if no such user.
  [[nodiscard]] absl::Status SetRoles(std::string_view name, const std::vector<std::string>& roles);
  [[nodiscard]] absl::Status SetDisabled(std::string_view name, bool disabled);     // NotFound
  [[nodiscard]] absl::Status SetPasswordHash(std::string_view name, const std::string& hash);
  // Replaces the sealed seed and resets the last used counter to -1.
  [[nodiscard]] absl::Status SetTotpSeed(std::string_view name, const std::string& sealed);
  // Atomically records `counter` as used iff it is greater than the stored
  // last counter; FailedPrecondition otherwise (a replay, including a
  // concurrent one: of two racing calls with one counter exactly one wins).
  // NotFound if no such user; InvalidArgument if counter < 0.
  [[nodiscard]] absl::Status ConsumeTotpCounter(std::string_view name, int64_t counter);

  // Authentication failures by the name that was tried, whether or not such
  // a user exists (so lockout does not reveal existence). InvalidArgument if
  // the name is empty or longer than kMaxNameBytes (no such user can exist).
  [[nodiscard]] absl::Status RecordAuthFailure(std::string_view name, int64_t at_unix);
  // Failures for `name` at or after `since_unix`.
  [[nodiscard]] absl::StatusOr<int> CountAuthFailuresSince(std::string_view name,
                                                           int64_t since_unix);
  [[nodiscard]] absl::Status ClearAuthFailures(std::string_view name);
  // Deletes failures (for all names) older than `before_unix`; returns how
  // many. Call periodically so sprayed unknown names do not accumulate.
  [[nodiscard]] absl::StatusOr<int> PurgeAuthFailuresBefore(int64_t before_unix);

  // Deletes the user, their roles, their tokens and their failure records.
  // NotFound if no such user.
  [[nodiscard]] absl::Status Delete(std::string_view name);

 private:
  absl::StatusOr<int64_t> IdOf(std::string_view name);  // requires lock
  absl::Status WriteRoles(int64_t id, const std::vector<std::string>& roles);  // requires lock
  absl::StatusOr<std::vector<std::string>> ReadRoles(int64_t id);             // requires lock
  absl::Status UpdateOne(std::string_view name, Statement& st);               // requires lock

  Database* db_;
};

}  // namespace portcullis::store
