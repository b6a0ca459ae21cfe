#include "broker/store/database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"
#include "broker/store/schema.h"

namespace portcullis::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr char kMemoryPath[] = ":memory:";

// Creates `path` with mode 0600 if absent; tightens it to 0600 if it is
// group/other accessible. Refuses anything that is not a regular file.
absl::Status PrepareFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        fmt::format("cannot open database {}: {}", path, std::strerror(errno)));
  }
  struct stat st;
  absl::Status result = absl::OkStatus();
  if (::fstat(fd, &st) != 0) {
    result = absl::InternalError(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    result = absl::FailedPreconditionError(fmt::format("{} is not a regular file", path));
  } else if ((st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
    result = absl::PermissionDeniedError(
        fmt::format("cannot restrict {} to mode 0600: {}", path, std::strerror(errno)));
  }
  ::close(fd);
  return result;
}

}  // namespace

Database::Database(Sqlite3Ptr conn, std::string path, const Clock* clock)
    : conn_(std::move(conn)), path_(std::move(path)), clock_(clock) {}

Database::~Database() = default;

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                         const Clock* clock) {
  if (clock == nullptr) return absl::InvalidArgumentError("Database::Open: clock is null");
  if (path.empty()) return absl::InvalidArgumentError("database path is empty");
  if (path != kMemoryPath) PC_RETURN_IF_ERROR(PrepareFile(path));

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  Sqlite3Ptr conn(raw);  // closes even on failure
  if (rc != SQLITE_OK) {
    return SqliteStatus(conn.get(), rc, fmt::format("cannot open database {}", path));
  }
  std::unique_ptr<Database> db(new Database(std::move(conn), path, clock));
  auto lock = db->Lock();
  PC_RETURN_IF_ERROR(db->Configure());
  PC_RETURN_IF_ERROR(db->Migrate());
  return db;
}

absl::Status Database::Configure() {
  sqlite3_extended_result_codes(conn_.get(), 1);
  int rc = sqlite3_busy_timeout(conn_.get(), kBusyTimeoutMs);
  if (rc != SQLITE_OK) return SqliteStatus(conn_.get(), rc, "set busy timeout");

  {
    PC_ASSIGN_OR_RETURN(Statement st, Prepare("PRAGMA journal_mode=WAL", "set journal mode"));
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    std::string mode = row ? st.ColumnText(0) : std::string();
    // An in-memory database reports "memory"; a file must really be in WAL.
    if (mode != "wal" && !(path_ == kMemoryPath && mode == "memory")) {
      return absl::FailedPreconditionError(
          fmt::format("{}: cannot enable WAL journal (got '{}')", path_, mode));
    }
  }
  PC_RETURN_IF_ERROR(Exec(
      "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
      "set pragmas"));
  PC_ASSIGN_OR_RETURN(Statement fk, Prepare("PRAGMA foreign_keys", "check foreign keys"));
  PC_ASSIGN_OR_RETURN(bool row, fk.Step());
  if (!row || fk.ColumnInt(0) != 1) {
    return absl::FailedPreconditionError("SQLite foreign key support is unavailable");
  }
  return absl::OkStatus();
}

absl::Status Database::Migrate() {
  PC_RETURN_IF_ERROR(Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
      "create schema_migrations"));
  auto current_version = [this]() -> absl::StatusOr<int> {
    PC_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT COALESCE(MAX(version), 0) FROM "
                                              "schema_migrations",
                                              "read schema version"));
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    return row ? static_cast<int>(st.ColumnInt(0)) : 0;
  };
  PC_ASSIGN_OR_RETURN(int current, current_version());
  const int latest = LatestSchemaVersion();
  if (current > latest) {
    return absl::FailedPreconditionError(fmt::format(
        "database schema v{} is newer than this portcullisd (v{})", current, latest));
  }
  for (const Migration& m : Migrations()) {
    if (m.version <= current) continue;
    PC_RETURN_IF_ERROR(InTransaction([&]() -> absl::Status {
      // Another process may have applied it since we looked.
      PC_ASSIGN_OR_RETURN(Statement check,
                          Prepare("SELECT 1 FROM schema_migrations WHERE version = ?",
                                  "check migration"));
      check.BindInt(1, m.version);
      PC_ASSIGN_OR_RETURN(bool done, check.Step());
      if (done) return absl::OkStatus();
      PC_RETURN_IF_ERROR(Exec(m.sql, fmt::format("apply migration {}", m.version)));
      PC_ASSIGN_OR_RETURN(Statement rec,
                          Prepare("INSERT INTO schema_migrations(version, description, "
                                  "applied_at) VALUES (?, ?, ?)",
                                  "record migration"));
      rec.BindInt(1, m.version).BindText(2, m.description).BindText(3, FormatUtc(clock_->Now()));
      return rec.Run();
    }));
  }
  PC_ASSIGN_OR_RETURN(schema_version_, current_version());
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(std::string_view sql, std::string_view context) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(conn_.get(), sql.data(), static_cast<int>(sql.size()), 0, &raw,
                              nullptr);
  SqliteStmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteStatus(conn_.get(), rc, fmt::format("{} (prepare)", context));
  if (stmt == nullptr) {
    return absl::InternalError(fmt::format("{}: empty SQL statement", context));
  }
  return Statement(conn_.get(), std::move(stmt), std::string(context));
}

absl::Status Database::Exec(std::string_view sql, std::string_view context) {
  std::string text(sql);
  int rc = sqlite3_exec(conn_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(conn_.get(), sqlite3_extended_errcode(conn_.get()), context);
  }
  return absl::OkStatus();
}

absl::Status Database::InTransaction(const std::function<absl::Status()>& fn) {
  auto lock = Lock();
  const int depth = tx_depth_;
  const std::string savepoint = fmt::format("pc_sp{}", depth);
  PC_RETURN_IF_ERROR(Exec(depth == 0 ? std::string("BEGIN IMMEDIATE") : "SAVEPOINT " + savepoint,
                          "begin transaction"));
  auto rollback = [&] {
    if (depth == 0) {
      // SQLite may already have rolled back by itself (e.g. SQLITE_FULL).
      if (sqlite3_get_autocommit(conn_.get()) == 0) {
        (void)Exec("ROLLBACK", "rollback");
      }
    } else {
      (void)Exec(fmt::format("ROLLBACK TO {0}; RELEASE {0}", savepoint), "rollback savepoint");
    }
  };
  ++tx_depth_;
  absl::Status status;
  try {
    status = fn();
  } catch (...) {
    --tx_depth_;
    rollback();
    throw;
  }
  --tx_depth_;
  if (!status.ok()) {
    rollback();
    return status;
  }
  status = Exec(depth == 0 ? std::string("COMMIT") : "RELEASE " + savepoint, "commit");
  if (!status.ok()) rollback();
  return status;
}

}  // namespace portcullis::store
