#pragma once
// TokenManager: bearer tokens for the control-plane API. A token is 256
// random bits (base64url); only its SHA-256 is stored. Tokens expire and are
// revocable (logout, user disabled). Thread-safe.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/common/secret.h"
#include "broker/core/authenticator.h"
#include "broker/store/token_repo.h"
#include "broker/store/user_repo.h"

namespace portcullis::core {

struct IssuedToken {
  SecretBytes token;
  int64_t expires_at = 0;
};

struct TokenInfo {
  Identity identity;
  std::string token_hash;
  int64_t expires_at = 0;
};

class TokenManager {
 public:
  TokenManager(store::TokenRepo* tokens, store::UserRepo* users, const Clock* clock,
               std::chrono::seconds ttl)
      : tokens_(tokens), users_(users), clock_(clock), ttl_(ttl) {}

  // A token for `id` (as returned by the Authenticator), bound to its user
  // row and login generation.
  [[nodiscard]] absl::StatusOr<IssuedToken> Issue(const Identity& id);
  // UNAUTHENTICATED for an unknown, expired or revoked token, a disabled or
  // deleted user, or a user re-created, disabled or reset since the token
  // was issued (another user id or login generation). The message never
  // contains the token.
  [[nodiscard]] absl::StatusOr<TokenInfo> Validate(std::string_view token);
  [[nodiscard]] absl::Status Revoke(std::string_view token_hash);
  [[nodiscard]] absl::Status RevokeUser(std::string_view user);
  static std::string HashToken(std::string_view token);

 private:
  store::TokenRepo* tokens_;
  store::UserRepo* users_;
  const Clock* clock_;
  std::chrono::seconds ttl_;
};

}  // namespace portcullis::core
