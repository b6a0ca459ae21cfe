// One test per way of tampering with the audit log behind the broker's back
// (raw sqlite3 connection, triggers dropped first). Each must be caught by
// Verify() and name the right first bad seq.

#include <gtest/gtest.h>

#include <fstream>

#include "broker/audit/audit_log.h"
#include "broker/common/clock.h"
#include "tests/broker/audit/sample_events.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::audit {
namespace {

using store::Database;
using store::testing::RawDb;
using store::testing::TempDir;

constexpr int kRows = 30;

class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    log_ = std::make_unique<AuditLog>(db_.get(), &clock_, dir_.Join("audit.anchor"));
    for (int i = 1; i <= kRows; ++i) {
      clock_.Advance(std::chrono::seconds(1));
      const bool decision = i % 3 == 0;
      AuditEvent e = testing::SampleEvent(decision ? "policy.decision" : "auth.login");
      e.actor = i % 2 ? "alice" : "bob";
      e.subject = "plc-" + std::to_string(i);
      e.outcome = decision ? (i % 5 ? "allowed" : "denied") : (i % 5 ? "success" : "failure");
      if (!decision) e.details = {{"user_bytes", i}, {"channel", "ssh"}};
      ASSERT_TRUE(log_->Append(e).ok());
    }
    ASSERT_TRUE(Verify().ok) << Verify().message;
    raw_ = std::make_unique<RawDb>(dir_.Join("p.db"));
    ASSERT_EQ(raw_->Exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"),
              "");
  }

  VerifyResult Verify() {
    auto v = log_->Verify();
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : VerifyResult{};
  }

  void ExpectBad(int64_t seq, const std::string& message_part) {
    VerifyResult v = Verify();
    EXPECT_FALSE(v.ok);
    ASSERT_TRUE(v.first_bad_seq.has_value()) << v.message;
    EXPECT_EQ(*v.first_bad_seq, seq) << v.message;
    EXPECT_NE(v.message.find(message_part), std::string::npos) << v.message;
  }

  void Tamper(const std::string& sql) { ASSERT_EQ(raw_->Exec(sql), ""); }

  // Recomputes row `seq`'s hash from its (edited) content and stored
  // prev_hash, the way a careful attacker would.
  void Rehash(int64_t seq) {
    AuditFilter f;
    f.after_seq = seq - 1;
    f.limit = 1;
    f.newest = false;
    auto rows = log_->List(f);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 1u);
    const AuditRow& r = (*rows)[0];
    const std::string hash =
        AuditChainHash(r.prev_hash, CanonicalAuditJson(r.seq, r.time, r.event));
    Tamper("UPDATE audit_log SET hash = '" + hash + "' WHERE seq = " + std::to_string(seq));
  }

  TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<RawDb> raw_;
};

TEST_F(AuditTamperTest, Baseline) {
  VerifyResult v = Verify();
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.rows_checked, kRows);
}

TEST_F(AuditTamperTest, EditedType) {
  Tamper("UPDATE audit_log SET type = 'auth.logout' WHERE seq = 17");
  ExpectBad(17, "row 17: hash mismatch (row edited)");
}

TEST_F(AuditTamperTest, EditedActor) {
  Tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 9");
  ExpectBad(9, "row 9: hash mismatch");
}

TEST_F(AuditTamperTest, EditedDetails) {
  Tamper("UPDATE audit_log SET details = '{\"channel\":\"grpc\",\"user_bytes\":5}' WHERE seq = 5");
  ExpectBad(5, "row 5: hash mismatch");
}

TEST_F(AuditTamperTest, EditedDetailsWhitespaceOnlyIsStillCanonical) {
  // Same JSON value, different text: the canonical form is unchanged, so the
  // row still verifies (the chain protects content, not formatting).
  Tamper("UPDATE audit_log SET details = '{ \"user_bytes\" : 5, \"channel\" : \"ssh\" }' WHERE seq = 5");
  EXPECT_TRUE(Verify().ok) << Verify().message;
}

TEST_F(AuditTamperTest, DetailsMadeInvalidJson) {
  Tamper("UPDATE audit_log SET details = '{\"user_bytes\":' WHERE seq = 12");
  ExpectBad(12, "row 12: details are not valid JSON");
}

TEST_F(AuditTamperTest, EditedTime) {
  Tamper("UPDATE audit_log SET time = '2023-11-14T22:13:21.000000Z' WHERE seq = 20");
  ExpectBad(20, "row 20: hash mismatch");
}

TEST_F(AuditTamperTest, EditedHashColumn) {
  Tamper("UPDATE audit_log SET hash = '" + std::string(64, 'e') + "' WHERE seq = 3");
  ExpectBad(3, "row 3: hash mismatch");
}

TEST_F(AuditTamperTest, DeletedMiddleRow) {
  Tamper("DELETE FROM audit_log WHERE seq = 14");
  ExpectBad(14, "row 14: sequence gap after 13 (next row is 15; row(s) deleted)");
}

TEST_F(AuditTamperTest, DeletedFirstRow) {
  Tamper("DELETE FROM audit_log WHERE seq = 1");
  ExpectBad(1, "sequence gap after 0");
}

TEST_F(AuditTamperTest, DeletedMiddleRowAndRenumbered) {
  // Delete 14 and shift every later seq down by one: no gap, but row 14
  // (formerly 15) was hashed with seq 15.
  Tamper("DELETE FROM audit_log WHERE seq = 14; UPDATE audit_log SET seq = seq - 1 WHERE seq > 14");
  ExpectBad(14, "row 14: hash mismatch");
}

TEST_F(AuditTamperTest, DeletedTailRowsCaughtByAnchor) {
  Tamper("DELETE FROM audit_log WHERE seq >= 29");
  ExpectBad(29, "chain head mismatch: log ends at 28 but anchor says 30 (tail rows deleted)");
}

TEST_F(AuditTamperTest, DeletedTailWithoutAnchorGoesUnnoticed) {
  // Documents why the anchor exists: the remaining chain alone is valid.
  Tamper("DELETE FROM audit_log WHERE seq = 30");
  AuditLog no_anchor(db_.get(), &clock_, "");
  auto v = no_anchor.Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok);
  ExpectBad(30, "tail rows deleted");
}

TEST_F(AuditTamperTest, SwappedRowsReordered) {
  // Rows 10 and 11 exchange everything but their seq.
  const std::string cols = "time, type, actor, subject, outcome, source, details, prev_hash, hash";
  Tamper("CREATE TEMP TABLE t AS SELECT seq, " + cols + " FROM audit_log WHERE seq IN (10, 11);"
         "UPDATE audit_log SET (" + cols + ") = (SELECT " + cols +
         " FROM t WHERE t.seq = 21 - audit_log.seq) WHERE seq IN (10, 11);");
  ExpectBad(10, "row 10: hash mismatch");
}

TEST_F(AuditTamperTest, EditWithRecomputedHashBreaksNextLink) {
  Tamper("UPDATE audit_log SET outcome = 'allowed' WHERE seq = 15");  // was denied
  Rehash(15);
  ExpectBad(16, "row 16: previous-hash link broken (row 15 rewritten");
}

TEST_F(AuditTamperTest, WholeTailRehashedCaughtByAnchor) {
  Tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 25");
  for (int seq = 25; seq <= kRows; ++seq) {
    if (seq > 25) {
      Tamper("UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = " +
             std::to_string(seq - 1) + ") WHERE seq = " + std::to_string(seq));
    }
    Rehash(seq);
  }
  ExpectBad(kRows, "chain head mismatch: row 30 hash differs from the anchor (tail rewritten)");
}

TEST_F(AuditTamperTest, RowAppendedOutsideBroker) {
  const std::string prev = raw_->QueryText("SELECT hash FROM audit_log WHERE seq = 30");
  AuditEvent e;
  e.type = "approval.granted";
  e.actor = "mallory";
  const std::string time = "2023-11-14T23:00:00.000000Z";
  const std::string hash = AuditChainHash(prev, CanonicalAuditJson(31, time, e));
  Tamper("INSERT INTO audit_log VALUES (31, '" + time + "', 'approval.granted', 'mallory', '', "
         "'', '', '{}', '" + prev + "', '" + hash + "')");
  ExpectBad(31, "log ends at 31 but anchor says 30");
}

TEST_F(AuditTamperTest, RowInsertedBeforeTheFirst) {
  Tamper("INSERT INTO audit_log SELECT 0, time, type, 'mallory', subject, outcome, source, "
         "details, prev_hash, hash FROM audit_log WHERE seq = 1");
  ExpectBad(0, "row 0: sequence number out of range (row inserted)");
}

TEST_F(AuditTamperTest, AnchorMissingOrMalformed) {
  ASSERT_EQ(std::remove(dir_.Join("audit.anchor").c_str()), 0);
  VerifyResult v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.message.find("missing"), std::string::npos) << v.message;
  std::ofstream(dir_.Join("audit.anchor")) << "garbage";
  v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.message.find("malformed"), std::string::npos) << v.message;
}

}  // namespace
}  // namespace portcullis::audit
