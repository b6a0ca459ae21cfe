#pragma once
// Database: Portcullis's embedded SQLite store (one file in the data
// directory). Owns one connection; every use of it is serialised by one
// recursive mutex, so a Database is thread-safe and all repositories
// (UserRepo, RoleRepo, ...) and the audit log share one instance. The
// Database must outlive every repository built on it. `clock` is not owned
// and must outlive the Database.
//
// SQL lives only in the repository classes (and schema.cc), so a second
// backend (PostgreSQL) can be added behind the same repository interfaces.
//
// Open() creates the file with mode 0600 (tightening an existing file that is
// group/other accessible), sets journal_mode=WAL, synchronous=FULL,
// foreign_keys=ON, secure_delete=ON, busy_timeout=5000 ms and applies pending
// schema migrations (schema.h), each in its own transaction.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/store/sqlite_handles.h"
#include "broker/store/statement.h"

namespace portcullis::store {

class Database {
 public:
  // Opens or creates the database at `path` and migrates it to the latest
  // schema. FailedPrecondition if the file's schema is newer than this
  // binary knows ("database schema v7 is newer than this portcullisd (v3)").
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                                      const Clock* clock);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  int SchemaVersion() const { return schema_version_; }
  const Clock* clock() const { return clock_; }
  const std::string& path() const { return path_; }

  // Runs `fn` inside BEGIN IMMEDIATE ... COMMIT, holding the connection
  // lock throughout (other threads wait). Rolls back if `fn` returns an error
  // (which is returned) or throws (rethrown). Nested calls from inside `fn`
  // on the same thread are allowed and become SAVEPOINTs: an inner failure
  // rolls back only the inner part, and returns its error to the outer fn.
  // `fn` must not wait for another thread that uses this Database.
  [[nodiscard]] absl::Status InTransaction(const std::function<absl::Status()>& fn);

  // ---- Internal to the store and audit libraries. ----
  // The connection lock. Hold it while preparing/using Statements.
  [[nodiscard]] std::unique_lock<std::recursive_mutex> Lock() const {
    return std::unique_lock<std::recursive_mutex>(mu_);
  }
  // Requires Lock(). `context` names the operation for error messages.
  [[nodiscard]] absl::StatusOr<Statement> Prepare(std::string_view sql,
                                                  std::string_view context);
  // Requires Lock(). Runs one or more statements with no parameters.
  [[nodiscard]] absl::Status Exec(std::string_view sql, std::string_view context);
  // Requires Lock(). True iff this thread is inside InTransaction().
  bool InTransactionLocked() const { return tx_depth_ > 0; }

 private:
  Database(Sqlite3Ptr conn, std::string path, const Clock* clock);
  absl::Status Configure();
  absl::Status Migrate();

  mutable std::recursive_mutex mu_;
  Sqlite3Ptr conn_;  // guarded by mu_
  std::string path_;
  const Clock* clock_;
  int schema_version_ = 0;
  int tx_depth_ = 0;  // guarded by mu_
};

}  // namespace portcullis::store
