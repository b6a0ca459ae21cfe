#pragma once
// TokenRepo: issued bearer tokens, by SHA-256 hex of the token (the token
// itself is never stored). A token belongs to a user and goes when the user
// is deleted. Thread-safe via the Database lock; `db` is not owned and must
// outlive the repo. Error messages never include token hashes.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/database.h"

namespace portcullis::store {

struct TokenRecord {
  std::string token_hash;  // sha256 hex (64 lowercase hex digits) of the bearer token
  std::string user;
  int64_t issued_at = 0;   // unix seconds; 0 on Insert() = now
  int64_t expires_at = 0;  // unix seconds; valid while now < expires_at
  bool revoked = false;
  std::string kind = "cli";
  // The user row and login generation the token was issued for; a token is
  // valid only while they are the user's current ones (user_repo.h).
  int64_t user_id = 0;
  int64_t user_generation = 0;
};

class TokenRepo {
 public:
  explicit TokenRepo(Database* db);

  // InvalidArgument if token_hash is not 64 lowercase hex digits (this also
  // catches a raw token passed by mistake) or expires_at <= issued_at;
  // NotFound if the user does not exist; AlreadyExists on a duplicate hash.
  [[nodiscard]] absl::Status Insert(const TokenRecord& t);
  [[nodiscard]] absl::StatusOr<TokenRecord> Get(std::string_view token_hash);  // NotFound
  // NotFound if absent; revoking twice is OK.
  [[nodiscard]] absl::Status Revoke(std::string_view token_hash);
  // Revokes every token of `user` (none is OK).
  [[nodiscard]] absl::Status RevokeAllForUser(std::string_view user);
  // Deletes tokens with expires_at <= now_unix; returns how many.
  [[nodiscard]] absl::StatusOr<int> PurgeExpired(int64_t now_unix);

 private:
  Database* db_;
};

// True iff `s` is 64 lowercase hex digits.
bool IsSha256Hex(std::string_view s);

}  // namespace portcullis::store
