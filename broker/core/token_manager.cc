#include "broker/core/token_manager.h"

#include "broker/common/encoding.h"

namespace portcullis::core {

std::string TokenManager::HashToken(std::string_view token) { return HexEncode(Sha256(token)); }

absl::StatusOr<IssuedToken> TokenManager::Issue(const Identity& id) {
  SecretBytes raw = SecretBytes::Random(32);
  std::string text = "pc1_" + Base64UrlEncode(raw.Reveal());
  store::TokenRecord rec;
  rec.token_hash = HashToken(text);
  rec.user = id.user;
  rec.user_id = id.user_id;
  rec.user_generation = id.login_generation;
  rec.issued_at = clock_->NowUnix();
  rec.expires_at = rec.issued_at + ttl_.count();
  if (auto st = tokens_->Insert(rec); !st.ok()) return st;
  auto secret = SecretBytes::Take(text);
  if (!secret.ok()) return secret.status();
  return IssuedToken{std::move(*secret), rec.expires_at};
}

absl::StatusOr<TokenInfo> TokenManager::Validate(std::string_view token) {
  const auto refuse = [] { return absl::UnauthenticatedError("invalid or expired token"); };
  if (token.size() < 8 || token.size() > 128) return refuse();
  std::string hash = HashToken(token);
  auto rec = tokens_->Get(hash);
  if (!rec.ok() || rec->revoked || rec->expires_at <= clock_->NowUnix()) return refuse();
  auto user = users_->Get(rec->user);
  if (!user.ok() || user->disabled || user->id != rec->user_id ||
      user->login_generation != rec->user_generation)
    return refuse();
  TokenInfo info;
  info.identity = IdentityOf(*user);
  info.token_hash = hash;
  info.expires_at = rec->expires_at;
  return info;
}

absl::Status TokenManager::Revoke(std::string_view token_hash) {
  return tokens_->Revoke(token_hash);
}

absl::Status TokenManager::RevokeUser(std::string_view user) {
  return tokens_->RevokeAllForUser(user);
}

}  // namespace portcullis::core
