#include "broker/store/key_repo.h"

#include <fmt/format.h>

#include "broker/common/status_macros.h"
#include "broker/store/validation.h"

namespace portcullis::store {
namespace {

constexpr std::string_view kFingerprintPrefix = "SHA256:";

absl::Status Validate(const UserKeyRecord& k) {
  PC_RETURN_IF_ERROR(CheckName("key user", k.user));
  PC_RETURN_IF_ERROR(CheckName("key fingerprint", k.fingerprint));
  if (k.fingerprint.substr(0, kFingerprintPrefix.size()) != kFingerprintPrefix) {
    return absl::InvalidArgumentError("key fingerprint must start with SHA256:");
  }
  PC_RETURN_IF_ERROR(CheckName("key type", k.type));
  if (k.blob.empty()) return absl::InvalidArgumentError("key blob is empty");
  PC_RETURN_IF_ERROR(CheckSize("key blob", k.blob, KeyRepo::kMaxBlobBytes));
  PC_RETURN_IF_ERROR(CheckSize("key comment", k.comment, KeyRepo::kMaxCommentBytes));
  return absl::OkStatus();
}

}  // namespace

KeyRepo::KeyRepo(Database* db) : db_(db) {}

absl::Status KeyRepo::Add(const UserKeyRecord& k) {
  PC_RETURN_IF_ERROR(Validate(k));
  const int64_t created_at = k.created_at != 0 ? k.created_at : db_->clock()->NowUnix();
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("INSERT INTO user_keys(user, fingerprint, blob, type, comment, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   "insert user key"));
  st.BindText(1, k.user)
      .BindText(2, k.fingerprint)
      .BindBlob(3, k.blob)
      .BindText(4, k.type)
      .BindText(5, k.comment)
      .BindInt(6, created_at);
  absl::Status status = st.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        fmt::format("key {} is already registered for {}", k.fingerprint, k.user));
  }
  if (absl::IsFailedPrecondition(status)) {  // the foreign key to users(name)
    return absl::NotFoundError(fmt::format("user {} not found", k.user));
  }
  return status;
}

absl::StatusOr<std::vector<UserKeyRecord>> KeyRepo::List(std::string_view user) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("SELECT user, fingerprint, blob, type, comment, created_at FROM user_keys "
                   "WHERE user = ? ORDER BY created_at, rowid",
                   "list user keys"));
  st.BindText(1, user);
  std::vector<UserKeyRecord> out;
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    UserKeyRecord k;
    k.user = st.ColumnText(0);
    k.fingerprint = st.ColumnText(1);
    k.blob = st.ColumnBlob(2);
    k.type = st.ColumnText(3);
    k.comment = st.ColumnText(4);
    k.created_at = st.ColumnInt(5);
    out.push_back(std::move(k));
  }
  return out;
}

absl::Status KeyRepo::Remove(std::string_view user, std::string_view fingerprint) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("DELETE FROM user_keys WHERE user = ? AND fingerprint = ?",
                                   "remove user key"));
  st.BindText(1, user).BindText(2, fingerprint);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) {
    return absl::NotFoundError(fmt::format("{} has no key {}", user, fingerprint));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> KeyRepo::HasKey(std::string_view user, std::string_view blob) {
  if (user.empty() || blob.empty() || blob.size() > kMaxBlobBytes) return false;
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT 1 FROM user_keys WHERE user = ? AND blob = ?",
                                   "look up user key"));
  st.BindText(1, user).BindBlob(2, blob);
  return st.Step();
}

}  // namespace portcullis::store
