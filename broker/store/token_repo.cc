#include "broker/store/token_repo.h"

#include <fmt/format.h>

#include "broker/common/status_macros.h"
#include "broker/store/validation.h"

namespace portcullis::store {
namespace {

absl::Status TokenNotFound() { return absl::NotFoundError("token not found"); }

}  // namespace

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TokenRepo::TokenRepo(Database* db) : db_(db) {}

absl::Status TokenRepo::Insert(const TokenRecord& t) {
  if (!IsSha256Hex(t.token_hash)) {
    return absl::InvalidArgumentError(
        "token hash must be 64 lowercase hex digits (SHA-256 of the token)");
  }
  PC_RETURN_IF_ERROR(CheckName("token user", t.user));
  PC_RETURN_IF_ERROR(CheckName("token kind", t.kind));
  const int64_t issued_at = t.issued_at != 0 ? t.issued_at : db_->clock()->NowUnix();
  if (t.expires_at <= issued_at) {
    return absl::InvalidArgumentError("token expires before it is issued");
  }
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("INSERT INTO tokens(token_hash, user, issued_at, expires_at, revoked, kind, "
                   "user_id, user_generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   "insert token"));
  st.BindText(1, t.token_hash)
      .BindText(2, t.user)
      .BindInt(3, issued_at)
      .BindInt(4, t.expires_at)
      .BindInt(5, t.revoked ? 1 : 0)
      .BindText(6, t.kind)
      .BindInt(7, t.user_id)
      .BindInt(8, t.user_generation);
  absl::Status status = st.Run();
  if (absl::IsAlreadyExists(status)) return absl::AlreadyExistsError("token already exists");
  if (absl::IsFailedPrecondition(status)) {  // the foreign key to users(name)
    return absl::NotFoundError(fmt::format("user {} not found", t.user));
  }
  return status;
}

absl::StatusOr<TokenRecord> TokenRepo::Get(std::string_view token_hash) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT token_hash, user, issued_at, expires_at, revoked, kind, "
                                   "user_id, user_generation FROM tokens WHERE token_hash = ?",
                                   "get token"));
  st.BindText(1, token_hash);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return TokenNotFound();
  TokenRecord t;
  t.token_hash = st.ColumnText(0);
  t.user = st.ColumnText(1);
  t.issued_at = st.ColumnInt(2);
  t.expires_at = st.ColumnInt(3);
  t.revoked = st.ColumnInt(4) != 0;
  t.kind = st.ColumnText(5);
  t.user_id = st.ColumnInt(6);
  t.user_generation = st.ColumnInt(7);
  return t;
}

absl::Status TokenRepo::Revoke(std::string_view token_hash) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare("UPDATE tokens SET revoked = 1 WHERE token_hash = ?",
                                                 "revoke token"));
  st.BindText(1, token_hash);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) return TokenNotFound();
  return absl::OkStatus();
}

absl::Status TokenRepo::RevokeAllForUser(std::string_view user) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare("UPDATE tokens SET revoked = 1 WHERE user = ?",
                                                 "revoke user tokens"));
  st.BindText(1, user);
  return st.Run();
}

absl::StatusOr<int> TokenRepo::PurgeExpired(int64_t now_unix) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare("DELETE FROM tokens WHERE expires_at <= ?",
                                                 "purge expired tokens"));
  st.BindInt(1, now_unix);
  PC_RETURN_IF_ERROR(st.Run());
  return static_cast<int>(st.Changes());
}

}  // namespace portcullis::store
