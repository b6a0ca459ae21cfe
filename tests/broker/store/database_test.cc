#include "broker/store/database.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <stdexcept>

#include "broker/common/clock.h"
#include "broker/store/meta_repo.h"
#include "broker/store/schema.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

using testing::RawDb;
using testing::TempDir;

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  std::string Path() const { return dir_.Join("portcullis.db"); }

  TempDir dir_;
  FakeClock clock_{1'700'000'000};
};

TEST_F(DatabaseTest, OpenCreatesPrivateWalFileAtLatestSchema) {
  auto db = Database::Open(Path(), &clock_);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ((*db)->clock(), &clock_);
  struct stat st;
  ASSERT_EQ(::stat(Path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  RawDb raw(Path());
  EXPECT_EQ(raw.QueryText("PRAGMA journal_mode"), "wal");
}

TEST_F(DatabaseTest, MigrationsAppliedOnceAndIdempotentOnReopen) {
  {
    auto db = Database::Open(Path(), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
  }
  RawDb raw(Path());
  const std::string count = raw.QueryText("SELECT COUNT(*) FROM schema_migrations");
  const std::string applied =
      raw.QueryText("SELECT applied_at FROM schema_migrations WHERE version = 1");
  EXPECT_EQ(count, std::to_string(Migrations().size()));
  EXPECT_EQ(applied, "2023-11-14T22:13:20Z");

  clock_.SetUnix(1'800'000'000);
  for (int i = 0; i < 2; ++i) {
    auto db = Database::Open(Path(), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_EQ((*db)->SchemaVersion(), LatestSchemaVersion());
  }
  EXPECT_EQ(raw.QueryText("SELECT COUNT(*) FROM schema_migrations"), count);
  EXPECT_EQ(raw.QueryText("SELECT applied_at FROM schema_migrations WHERE version = 1"),
            applied);
}

TEST_F(DatabaseTest, DataSurvivesReopen) {
  {
    auto db = Database::Open(Path(), &clock_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MetaRepo(db->get()).Put("broker_id", "b-1").ok());
  }
  auto db = Database::Open(Path(), &clock_);
  ASSERT_TRUE(db.ok());
  auto v = MetaRepo(db->get()).Get("broker_id");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "b-1");
}

TEST_F(DatabaseTest, RefusesNewerSchema) {
  {
    auto db = Database::Open(Path(), &clock_);
    ASSERT_TRUE(db.ok());
  }
  const int future = LatestSchemaVersion() + 6;
  RawDb raw(Path());
  ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(future) +
                     ", 'from the future', 'x')"),
            "");
  auto db = Database::Open(Path(), &clock_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(db.status().message()),
            "database schema v" + std::to_string(future) + " is newer than this portcullisd (v" +
                std::to_string(LatestSchemaVersion()) + ")");
}

// A data directory from before version 4 (lockout by failure rows, no login
// generations) opens: failures carry over as counters, users start at
// generation 1 and existing tokens are bound to their user's row.
TEST_F(DatabaseTest, MigratesAVersion3Database) {
  { std::ofstream(Path()).flush(); }
  {
    RawDb raw(Path());
    ASSERT_EQ(raw.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                       "description TEXT NOT NULL, applied_at TEXT NOT NULL)"),
              "");
    for (const Migration& m : Migrations()) {
      if (m.version > 3) break;
      ASSERT_EQ(raw.Exec(std::string(m.sql)), "") << m.version;
      ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
                         ", 'v', 'x')"),
                "");
    }
    ASSERT_EQ(raw.Exec("INSERT INTO users(name, created_at) VALUES ('bob', 1);"
                       "INSERT INTO tokens(token_hash, user, issued_at, expires_at) "
                       "  VALUES ('" + std::string(64, 'a') + "', 'bob', 1, 2000000000);"
                       "INSERT INTO auth_failures(name, at) VALUES ('bob', 100), ('bob', 160), "
                       "  ('ghost', 50);"),
              "");
  }
  auto db = Database::Open(Path(), &clock_);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->SchemaVersion(), LatestSchemaVersion());
  RawDb raw(Path());
  EXPECT_EQ(raw.QueryText("SELECT failures || '@' || last_at FROM auth_attempts WHERE name='bob'"),
            "2@160");
  EXPECT_EQ(raw.QueryText("SELECT failures FROM auth_attempts WHERE name = 'ghost'"), "1");
  EXPECT_EQ(raw.QueryText("SELECT COUNT(*) FROM sqlite_master WHERE name = 'auth_failures'"), "0");
  EXPECT_EQ(raw.QueryText("SELECT login_generation FROM users WHERE name = 'bob'"), "1");
  EXPECT_EQ(raw.QueryText("SELECT (user_id = (SELECT id FROM users WHERE name = 'bob')) || ',' || "
                          "user_generation FROM tokens"),
            "1,1");
}

// A version 5 database: targets keep their auth and vaulted secrets, and
// 'none' (VNC without authentication) becomes a valid auth.
TEST_F(DatabaseTest, MigratesAVersion5DatabaseKeepingTargetsAndSecrets) {
  { std::ofstream(Path()).flush(); }
  {
    RawDb raw(Path());
    ASSERT_EQ(raw.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                       "description TEXT NOT NULL, applied_at TEXT NOT NULL)"),
              "");
    for (const Migration& m : Migrations()) {
      if (m.version > 5) break;
      ASSERT_EQ(raw.Exec(std::string(m.sql)), "") << m.version;
      ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
                         ", 'v', 'x')"),
                "");
    }
    ASSERT_EQ(raw.Exec("INSERT INTO targets(name, address, protocol, created_at, auth) VALUES "
                       "  ('sw-01', '127.0.0.1:22', 'ssh', 1, 'password'),"
                       "  ('hmi-07', '127.0.0.1:5907', 'vnc', 1, 'password');"
                       "INSERT INTO target_secrets(target, login, kind, sealed, set_at, set_by) "
                       "  VALUES ('sw-01', 'admin', 'password', x'01', 1, 'alice'),"
                       "         ('hmi-07', '', 'password', x'02', 1, 'alice');"),
              "");
    EXPECT_NE(raw.Exec("UPDATE targets SET auth = 'none' WHERE name = 'hmi-07'"), "")
        << "version 5 refuses 'none'";
  }
  auto db = Database::Open(Path(), &clock_);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->SchemaVersion(), LatestSchemaVersion());
  RawDb raw(Path());
  EXPECT_EQ(raw.QueryText("SELECT group_concat(name || '=' || auth, ',') FROM "
                          "(SELECT name, auth FROM targets ORDER BY name)"),
            "hmi-07=password,sw-01=password");
  EXPECT_EQ(raw.QueryText("SELECT COUNT(*) FROM target_secrets"), "2");
  EXPECT_EQ(raw.Exec("UPDATE targets SET auth = 'none' WHERE name = 'hmi-07'"), "");
  EXPECT_NE(raw.Exec("UPDATE targets SET auth = 'bogus' WHERE name = 'hmi-07'"), "");
}

// A version 6 database: its VNC targets were reached in the clear, so they
// become legacy (VeNCrypt is what 'modern' means for a VNC target now);
// SSH targets keep their profile.
TEST_F(DatabaseTest, MigratesAVersion6DatabaseMarkingVncTargetsLegacy) {
  { std::ofstream(Path()).flush(); }
  {
    RawDb raw(Path());
    ASSERT_EQ(raw.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                       "description TEXT NOT NULL, applied_at TEXT NOT NULL)"),
              "");
    for (const Migration& m : Migrations()) {
      if (m.version > 6) break;
      ASSERT_EQ(raw.Exec(std::string(m.sql)), "") << m.version;
      ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
                         ", 'v', 'x')"),
                "");
    }
    ASSERT_EQ(raw.Exec("INSERT INTO targets(name, address, protocol, created_at, auth) VALUES "
                       "  ('sw-01', '127.0.0.1:22', 'ssh', 1, 'password'),"
                       "  ('hmi-07', '127.0.0.1:5907', 'vnc', 1, 'password'),"
                       "  ('hmi-08', '127.0.0.1:5908', 'vnc', 1, 'none');"),
              "");
  }
  auto db = Database::Open(Path(), &clock_);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->SchemaVersion(), LatestSchemaVersion());
  RawDb raw(Path());
  EXPECT_EQ(raw.QueryText("SELECT group_concat(name || '=' || crypto_profile, ',') FROM "
                          "(SELECT name, crypto_profile FROM targets ORDER BY name)"),
            "hmi-07=legacy,hmi-08=legacy,sw-01=modern");
}

TEST_F(DatabaseTest, TightensExistingFileMode) {
  { std::ofstream(Path()).flush(); }
  ASSERT_EQ(::chmod(Path().c_str(), 0644), 0);
  auto db = Database::Open(Path(), &clock_);
  ASSERT_TRUE(db.ok()) << db.status();
  struct stat st;
  ASSERT_EQ(::stat(Path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DatabaseTest, RefusesGarbageFile) {
  {
    std::ofstream out(Path(), std::ios::binary);
    out << std::string(8192, 'x');
  }
  auto db = Database::Open(Path(), &clock_);
  EXPECT_FALSE(db.ok());
}

TEST_F(DatabaseTest, RefusesNullClockAndEmptyPath) {
  EXPECT_FALSE(Database::Open(Path(), nullptr).ok());
  EXPECT_FALSE(Database::Open("", &clock_).ok());
}

TEST_F(DatabaseTest, InMemoryDatabaseWorks) {
  auto db = Database::Open(":memory:", &clock_);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->SchemaVersion(), LatestSchemaVersion());
}

class TransactionTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    auto db = Database::Open(Path(), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    meta_ = std::make_unique<MetaRepo>(db_.get());
  }
  bool Has(const std::string& key) { return meta_->Get(key).ok(); }

  std::unique_ptr<Database> db_;
  std::unique_ptr<MetaRepo> meta_;
};

TEST_F(TransactionTest, CommitsOnSuccess) {
  ASSERT_TRUE(db_->InTransaction([&] { return meta_->Put("a", "1"); }).ok());
  EXPECT_TRUE(Has("a"));
}

TEST_F(TransactionTest, RollsBackOnError) {
  absl::Status st = db_->InTransaction([&]() -> absl::Status {
    if (auto s = meta_->Put("a", "1"); !s.ok()) return s;
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kAborted);
  EXPECT_FALSE(Has("a"));
}

TEST_F(TransactionTest, RollsBackAndRethrowsOnException) {
  EXPECT_THROW((void)db_->InTransaction([&]() -> absl::Status {
    (void)meta_->Put("a", "1");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_FALSE(Has("a"));
  // The connection is usable afterwards.
  ASSERT_TRUE(db_->InTransaction([&] { return meta_->Put("b", "1"); }).ok());
  EXPECT_TRUE(Has("b"));
}

TEST_F(TransactionTest, NestedFailureRollsBackOnlyInnerPart) {
  absl::Status outer = db_->InTransaction([&]() -> absl::Status {
    if (auto s = meta_->Put("outer", "1"); !s.ok()) return s;
    absl::Status inner = db_->InTransaction([&]() -> absl::Status {
      if (auto s = meta_->Put("inner", "1"); !s.ok()) return s;
      return absl::AbortedError("inner fails");
    });
    EXPECT_EQ(inner.code(), absl::StatusCode::kAborted);
    return absl::OkStatus();
  });
  ASSERT_TRUE(outer.ok()) << outer;
  EXPECT_TRUE(Has("outer"));
  EXPECT_FALSE(Has("inner"));
}

TEST_F(TransactionTest, TriggersMakeAuditLogAppendOnly) {
  auto lock = db_->Lock();
  ASSERT_TRUE(db_->Exec("INSERT INTO audit_log VALUES (1, 't', 'x', 'a', 's', 'o', '', '{}', "
                        "'p', 'h')",
                        "insert")
                  .ok());
  absl::Status up = db_->Exec("UPDATE audit_log SET actor = 'mallory'", "update");
  absl::Status del = db_->Exec("DELETE FROM audit_log", "delete");
  EXPECT_FALSE(up.ok());
  EXPECT_FALSE(del.ok());
  EXPECT_NE(std::string(up.message()).find("append-only"), std::string::npos) << up;
}

}  // namespace
}  // namespace portcullis::store
