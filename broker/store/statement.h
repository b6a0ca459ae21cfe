#pragma once
// Statement: a prepared SQLite statement (RAII) with binding, stepping and
// column access. Internal to the store and audit libraries; obtain one from
// Database::Prepare() while holding Database::Lock(), and destroy it before
// releasing the lock. Not thread-safe.
//
// Bind errors are remembered and returned by the next Step()/Run(), so
// call sites can bind without checking each call. Parameter and column
// indexes follow SQLite: parameters from 1, columns from 0.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/sqlite_handles.h"

namespace portcullis::store {

// Maps a SQLite result code to a Status. `context` says what was being done
// (e.g. "insert user"); it must not contain secrets. The SQLite message is
// appended; SQLite messages name tables and columns, never bound values.
//   SQLITE_CONSTRAINT_{UNIQUE,PRIMARYKEY} -> AlreadyExists
//   other SQLITE_CONSTRAINT_*              -> FailedPrecondition
//   SQLITE_BUSY / SQLITE_LOCKED            -> Unavailable
//   SQLITE_FULL                            -> ResourceExhausted
//   SQLITE_CORRUPT / SQLITE_NOTADB         -> DataLoss
//   anything else                          -> Internal
absl::Status SqliteStatus(sqlite3* db, int rc, std::string_view context);

class Statement {
 public:
  Statement(sqlite3* db, SqliteStmtPtr stmt, std::string context);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  Statement& BindInt(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);
  Statement& BindNull(int index);

  // Advances one row: true if a row is available, false when done.
  [[nodiscard]] absl::StatusOr<bool> Step();
  // Steps until done, discarding any rows.
  [[nodiscard]] absl::Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;  // "" for NULL
  std::string ColumnBlob(int column) const;  // "" for NULL
  bool ColumnIsNull(int column) const;

  // Rows changed by the last completed INSERT/UPDATE/DELETE on the connection.
  int64_t Changes() const;

 private:
  void NoteBind(int rc);

  sqlite3* db_;
  SqliteStmtPtr stmt_;
  std::string context_;
  int bind_rc_ = SQLITE_OK;
};

}  // namespace portcullis::store
