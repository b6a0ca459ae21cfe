#pragma once
// Test-only helpers for the store and audit tests: a temporary directory
// and a raw sqlite3 connection (to inspect or tamper with the file behind
// the repositories' back).

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "broker/store/sqlite_handles.h"

namespace portcullis::store::testing {

// A fresh directory, removed recursively at the end. Under /dev/shm when
// available: the store fsyncs every commit (synchronous=FULL), which is slow
// on some disks and irrelevant to what these tests check. Otherwise under
// TMPDIR or /tmp.
class TempDir {
 public:
  TempDir() {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string base = tmpdir != nullptr ? tmpdir : "/tmp";
    if (::access("/dev/shm", W_OK) == 0) base = "/dev/shm";
    std::string templ = base + "/pc-store-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A raw connection to `path`. Returns "" on success or the SQLite error.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    sqlite3* raw = nullptr;
    sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    db_.reset(raw);
    if (db_) sqlite3_busy_timeout(db_.get(), 5000);
  }
  std::string Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err);
    std::string out = rc == SQLITE_OK ? "" : (err != nullptr ? err : "error");
    sqlite3_free(err);
    return out;
  }
  // The first column of the first row as text ("" if none).
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return "";
    SqliteStmtPtr st(raw);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return "";
    const unsigned char* text = sqlite3_column_text(st.get(), 0);
    return text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }
  sqlite3* get() { return db_.get(); }

 private:
  Sqlite3Ptr db_;
};

}  // namespace portcullis::store::testing
