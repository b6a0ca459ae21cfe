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
  // Login certificates and tokens are bound to (id, login_generation); the
  // generation starts at 1 and grows when the user is disabled or reset.
  int64_t login_generation = 1;    // ignored on Create()
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
  // Disabling also advances the login generation (in the same statement), so
  // enabling again does not revive credentials issued before. NotFound.
  [[nodiscard]] absl::Status SetDisabled(std::string_view name, bool disabled);
  // Advances the login generation by one; returns the new one. NotFound.
  [[nodiscard]] absl::StatusOr<int64_t> AdvanceLoginGeneration(std::string_view name);
  // In one statement: replaces the password hash and the sealed seed, resets
  // the last used TOTP counter and advances the login generation; returns
  // the new generation. NotFound.
  [[nodiscard]] absl::StatusOr<int64_t> ResetCredentials(std::string_view name,
                                                         const std::string& hash,
                                                         const std::string& sealed_seed);
  [[nodiscard]] absl::Status SetPasswordHash(std::string_view name, const std::string& hash);
  // In one statement: replaces the sealed seed, resets the last used
  // counter to -1 and advances the login generation (tokens and login
  // certificates issued with the old factor stop working); returns the new
  // generation. NotFound.
  [[nodiscard]] absl::StatusOr<int64_t> SetTotpSeed(std::string_view name,
                                                    const std::string& sealed);
  // Atomically records `counter` as used iff it is greater than the stored
  // last counter; FailedPrecondition otherwise (a replay, including a
  // concurrent one: of two racing calls with one counter exactly one wins).
  // NotFound if no such user; InvalidArgument if counter < 0.
  [[nodiscard]] absl::Status ConsumeTotpCounter(std::string_view name, int64_t counter);

  // Lockout counters, by the name that was tried, whether or not such a
  // user exists (so lockout does not reveal existence). A name's count grows
  // by one per counted attempt and restarts from zero once `window_seconds`
  // pass without one. Names: InvalidArgument if empty or longer than
  // kMaxNameBytes (no such user can exist).
  //
  // Counts one attempt for `name` at `now_unix` iff fewer than `limit` are
  // counted in the current window, as one atomic statement in the store (so
  // it holds across threads and across brokers sharing the database).
  // Returns the count including this attempt; ResourceExhausted if the name
  // is at the limit (locked; nothing counted).
  [[nodiscard]] absl::StatusOr<int> CountAuthAttempt(std::string_view name, int64_t now_unix,
                                                     int64_t window_seconds, int limit);
  // Attempts counted for `name` in the window current at `now_unix`.
  [[nodiscard]] absl::StatusOr<int> AuthAttemptsInWindow(std::string_view name, int64_t now_unix,
                                                         int64_t window_seconds);
  // Forgets `name`'s counted attempts (a successful login).
  [[nodiscard]] absl::Status ClearAuthFailures(std::string_view name);
  // Deletes the counters (for all names) whose last attempt is older than
  // `before_unix`; returns how many. Call periodically so sprayed unknown
  // names do not accumulate.
  [[nodiscard]] absl::StatusOr<int> PurgeAuthFailuresBefore(int64_t before_unix);

  // Deletes the user, their roles, their tokens and their lockout counter.
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
