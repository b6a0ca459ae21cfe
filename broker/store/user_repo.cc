#include "broker/store/user_repo.h"

#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "broker/common/status_macros.h"
#include "broker/store/validation.h"

namespace portcullis::store {
namespace {

constexpr size_t kMaxSecretFieldBytes = 64 * 1024;

constexpr std::string_view kSelectUser =
    "SELECT id, name, password_hash, totp_seed_sealed, totp_last_counter, disabled, created_at, "
    "login_generation FROM users";

UserRecord ReadUser(const Statement& st) {
  UserRecord u;
  u.id = st.ColumnInt(0);
  u.name = st.ColumnText(1);
  u.password_hash = st.ColumnText(2);
  u.totp_seed_sealed = st.ColumnBlob(3);
  u.totp_last_counter = st.ColumnInt(4);
  u.disabled = st.ColumnInt(5) != 0;
  u.created_at = st.ColumnInt(6);
  u.login_generation = st.ColumnInt(7);
  return u;
}

absl::Status UserNotFound(std::string_view name) {
  return absl::NotFoundError(fmt::format("user {} not found", name));
}

// Errors from statements that bind secrets are re-worded with the status
// code kept; the SQLite text names columns only, but be strict anyway.
absl::Status Reword(const absl::Status& st, std::string_view what, std::string_view name) {
  if (st.ok()) return st;
  return absl::Status(st.code(), fmt::format("{} for user {} failed", what, name));
}

}  // namespace

UserRepo::UserRepo(Database* db) : db_(db) {}

absl::StatusOr<int64_t> UserRepo::IdOf(std::string_view name) {
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT id FROM users WHERE name = ?", "look up user"));
  st.BindText(1, name);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return UserNotFound(name);
  return st.ColumnInt(0);
}

absl::Status UserRepo::WriteRoles(int64_t id, const std::vector<std::string>& roles) {
  PC_ASSIGN_OR_RETURN(Statement del, db_->Prepare("DELETE FROM user_roles WHERE user_id = ?",
                                                  "clear user roles"));
  del.BindInt(1, id);
  PC_RETURN_IF_ERROR(del.Run());
  std::set<std::string> seen;
  int64_t position = 0;
  for (const std::string& role : roles) {
    PC_RETURN_IF_ERROR(CheckName("role name", role));
    if (!seen.insert(role).second) continue;
    PC_ASSIGN_OR_RETURN(
        Statement ins,
        db_->Prepare("INSERT INTO user_roles(user_id, role, position) VALUES (?, ?, ?)",
                     "add user role"));
    ins.BindInt(1, id).BindText(2, role).BindInt(3, position++);
    PC_RETURN_IF_ERROR(ins.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> UserRepo::ReadRoles(int64_t id) {
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("SELECT role FROM user_roles WHERE user_id = ? ORDER BY position", "read roles"));
  st.BindInt(1, id);
  std::vector<std::string> roles;
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    roles.push_back(st.ColumnText(0));
  }
  return roles;
}

absl::Status UserRepo::UpdateOne(std::string_view name, Statement& st) {
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) return UserNotFound(name);
  return absl::OkStatus();
}

absl::Status UserRepo::Create(const UserRecord& u) {
  PC_RETURN_IF_ERROR(CheckName("user name", u.name));
  PC_RETURN_IF_ERROR(CheckSize("password hash", u.password_hash, kMaxSecretFieldBytes));
  PC_RETURN_IF_ERROR(CheckSize("sealed TOTP seed", u.totp_seed_sealed, kMaxSecretFieldBytes));
  const int64_t created_at = u.created_at != 0 ? u.created_at : db_->clock()->NowUnix();
  return db_->InTransaction([&]() -> absl::Status {
    PC_ASSIGN_OR_RETURN(
        Statement ins,
        db_->Prepare("INSERT INTO users(name, password_hash, totp_seed_sealed, totp_last_counter, "
                     "disabled, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                     "insert user"));
    ins.BindText(1, u.name)
        .BindText(2, u.password_hash)
        .BindBlob(3, u.totp_seed_sealed)
        .BindInt(4, u.totp_last_counter)
        .BindInt(5, u.disabled ? 1 : 0)
        .BindInt(6, created_at);
    absl::StatusOr<bool> row = ins.Step();
    if (!row.ok()) {
      if (absl::IsAlreadyExists(row.status())) {
        return absl::AlreadyExistsError(fmt::format("user {} already exists", u.name));
      }
      return Reword(row.status(), "create", u.name);
    }
    if (!*row) return absl::InternalError("insert user returned no id");
    const int64_t id = ins.ColumnInt(0);
    PC_RETURN_IF_ERROR(ins.Run());  // finish the statement before the next one
    return WriteRoles(id, u.roles);
  });
}

absl::StatusOr<UserRecord> UserRepo::Get(std::string_view name) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare(fmt::format("{} WHERE name = ?", kSelectUser), "get user"));
  st.BindText(1, name);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return UserNotFound(name);
  UserRecord u = ReadUser(st);
  PC_ASSIGN_OR_RETURN(u.roles, ReadRoles(u.id));
  return u;
}

absl::StatusOr<std::vector<UserRecord>> UserRepo::List() {
  auto lock = db_->Lock();
  std::vector<UserRecord> users;
  {
    PC_ASSIGN_OR_RETURN(Statement st,
                        db_->Prepare(fmt::format("{} ORDER BY name", kSelectUser), "list users"));
    for (;;) {
      PC_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      users.push_back(ReadUser(st));
    }
  }
  std::map<int64_t, std::vector<std::string>> roles;
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT user_id, role FROM user_roles ORDER BY user_id, position",
                                   "list user roles"));
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    roles[st.ColumnInt(0)].push_back(st.ColumnText(1));
  }
  for (UserRecord& u : users) {
    auto it = roles.find(u.id);
    if (it != roles.end()) u.roles = std::move(it->second);
  }
  return users;
}

absl::Status UserRepo::SetRoles(std::string_view name, const std::vector<std::string>& roles) {
  return db_->InTransaction([&]() -> absl::Status {
    PC_ASSIGN_OR_RETURN(int64_t id, IdOf(name));
    return WriteRoles(id, roles);
  });
}

absl::Status UserRepo::SetDisabled(std::string_view name, bool disabled) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE users SET disabled = ?1, login_generation = login_generation + ?1 "
                   "WHERE name = ?2",
                   "set user disabled"));
  st.BindInt(1, disabled ? 1 : 0).BindText(2, name);
  return UpdateOne(name, st);
}

absl::StatusOr<int64_t> UserRepo::AdvanceLoginGeneration(std::string_view name) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE users SET login_generation = login_generation + 1 WHERE name = ? "
                   "RETURNING login_generation",
                   "advance login generation"));
  st.BindText(1, name);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return UserNotFound(name);
  const int64_t generation = st.ColumnInt(0);
  PC_RETURN_IF_ERROR(st.Run());  // finish the statement
  return generation;
}

absl::StatusOr<int64_t> UserRepo::ResetCredentials(std::string_view name,
                                                   const std::string& hash,
                                                   const std::string& sealed_seed) {
  PC_RETURN_IF_ERROR(CheckSize("password hash", hash, kMaxSecretFieldBytes));
  PC_RETURN_IF_ERROR(CheckSize("sealed TOTP seed", sealed_seed, kMaxSecretFieldBytes));
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE users SET password_hash = ?, totp_seed_sealed = ?, "
                   "totp_last_counter = -1, login_generation = login_generation + 1 "
                   "WHERE name = ? RETURNING login_generation",
                   "reset credentials"));
  st.BindText(1, hash).BindBlob(2, sealed_seed).BindText(3, name);
  absl::StatusOr<bool> row = st.Step();
  if (!row.ok()) return Reword(row.status(), "reset credentials", name);
  if (!*row) return UserNotFound(name);
  const int64_t generation = st.ColumnInt(0);
  PC_RETURN_IF_ERROR(Reword(st.Run(), "reset credentials", name));
  return generation;
}

absl::Status UserRepo::SetPasswordHash(std::string_view name, const std::string& hash) {
  PC_RETURN_IF_ERROR(CheckSize("password hash", hash, kMaxSecretFieldBytes));
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("UPDATE users SET password_hash = ? WHERE name = ?",
                                   "set password hash"));
  st.BindText(1, hash).BindText(2, name);
  absl::Status status = UpdateOne(name, st);
  return absl::IsNotFound(status) ? status : Reword(status, "set password", name);
}

absl::StatusOr<int64_t> UserRepo::SetTotpSeed(std::string_view name, const std::string& sealed) {
  PC_RETURN_IF_ERROR(CheckSize("sealed TOTP seed", sealed, kMaxSecretFieldBytes));
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE users SET totp_seed_sealed = ?, totp_last_counter = -1, "
                   "login_generation = login_generation + 1 WHERE name = ? "
                   "RETURNING login_generation",
                   "set TOTP seed"));
  st.BindBlob(1, sealed).BindText(2, name);
  absl::StatusOr<bool> row = st.Step();
  if (!row.ok()) return Reword(row.status(), "set TOTP seed", name);
  if (!*row) return UserNotFound(name);
  const int64_t generation = st.ColumnInt(0);
  PC_RETURN_IF_ERROR(Reword(st.Run(), "set TOTP seed", name));
  return generation;
}

absl::Status UserRepo::ConsumeTotpCounter(std::string_view name, int64_t counter) {
  if (counter < 0) return absl::InvalidArgumentError("TOTP counter is negative");
  return db_->InTransaction([&]() -> absl::Status {
    // One conditional UPDATE: the comparison and the write are one atomic step.
    PC_ASSIGN_OR_RETURN(Statement st,
                        db_->Prepare("UPDATE users SET totp_last_counter = ?1 "
                                     "WHERE name = ?2 AND totp_last_counter < ?1",
                                     "consume TOTP counter"));
    st.BindInt(1, counter).BindText(2, name);
    PC_RETURN_IF_ERROR(st.Run());
    if (st.Changes() == 1) return absl::OkStatus();
    PC_RETURN_IF_ERROR(IdOf(name).status());
    return absl::FailedPreconditionError(
        fmt::format("TOTP code for user {} was already used", name));
  });
}

absl::StatusOr<int> UserRepo::CountAuthAttempt(std::string_view name, int64_t now_unix,
                                               int64_t window_seconds, int limit) {
  PC_RETURN_IF_ERROR(CheckName("user name", name));
  if (limit < 1) return absl::InvalidArgumentError("lockout limit must be at least 1");
  auto lock = db_->Lock();
  // The check and the count are one statement: of racing attempts at most
  // `limit` are counted, on SQLite and on a server database alike. A count
  // whose last attempt is `window_seconds` old or older has lapsed.
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("INSERT INTO auth_attempts(name, failures, last_at) VALUES (?1, 1, ?2) "
                   "ON CONFLICT(name) DO UPDATE SET "
                   "failures = CASE WHEN last_at <= ?3 THEN 1 ELSE failures + 1 END, "
                   "last_at = ?2 "
                   "WHERE last_at <= ?3 OR failures < ?4 "
                   "RETURNING failures",
                   "count authentication attempt"));
  st.BindText(1, name).BindInt(2, now_unix).BindInt(3, now_unix - window_seconds).BindInt(4, limit);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::ResourceExhaustedError(fmt::format("{} is locked", name));
  const int count = static_cast<int>(st.ColumnInt(0));
  PC_RETURN_IF_ERROR(st.Run());  // finish the statement
  return count;
}

absl::StatusOr<int> UserRepo::AuthAttemptsInWindow(std::string_view name, int64_t now_unix,
                                                   int64_t window_seconds) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT failures FROM auth_attempts WHERE name = ? AND "
                                   "last_at > ?",
                                   "read authentication attempts"));
  st.BindText(1, name).BindInt(2, now_unix - window_seconds);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<int>(st.ColumnInt(0)) : 0;
}

absl::Status UserRepo::ClearAuthFailures(std::string_view name) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare("DELETE FROM auth_attempts WHERE name = ?",
                                                 "clear authentication failures"));
  st.BindText(1, name);
  return st.Run();
}

absl::StatusOr<int> UserRepo::PurgeAuthFailuresBefore(int64_t before_unix) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare("DELETE FROM auth_attempts WHERE last_at < ?",
                                                 "purge authentication failures"));
  st.BindInt(1, before_unix);
  PC_RETURN_IF_ERROR(st.Run());
  return static_cast<int>(st.Changes());
}

absl::Status UserRepo::Delete(std::string_view name) {
  return db_->InTransaction([&]() -> absl::Status {
    PC_ASSIGN_OR_RETURN(Statement st,
                        db_->Prepare("DELETE FROM users WHERE name = ?", "delete user"));
    st.BindText(1, name);
    PC_RETURN_IF_ERROR(UpdateOne(name, st));
    PC_ASSIGN_OR_RETURN(Statement fail, db_->Prepare("DELETE FROM auth_attempts WHERE name = ?",
                                                     "clear authentication failures"));
    fail.BindText(1, name);
    return fail.Run();
  });
}

}  // namespace portcullis::store
