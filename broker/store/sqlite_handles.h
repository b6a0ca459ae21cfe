#pragma once
// RAII owners for SQLite handles: unique_ptr with a deleter, no sharing.
// A Sqlite3Ptr closes its connection with sqlite3_close_v2(), so any
// statements still alive keep it open until they are finalized.

#include <sqlite3.h>

#include <memory>

namespace portcullis::store {

struct Sqlite3Deleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteStmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

using Sqlite3Ptr = std::unique_ptr<sqlite3, Sqlite3Deleter>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, SqliteStmtDeleter>;

}  // namespace portcullis::store
