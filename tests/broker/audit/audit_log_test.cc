#include "broker/audit/audit_log.h"
#include "broker/common/encoding.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "broker/common/clock.h"
#include "tests/broker/audit/sample_events.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::audit {
namespace {

using store::Database;
using store::testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// SHA-256 hex computed here with OpenSSL directly, independent of the
// library's helpers, to pin the documented hash definition.
std::string Sha256HexIndependent(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

AuditEvent Event(const std::string& type, std::string actor, int n = 0) {
  AuditEvent e = testing::SampleEvent(type, n);
  e.actor = std::move(actor);
  e.source = "ipv4:127.0.0.1:53122";
  return e;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    log_ = std::make_unique<AuditLog>(db_.get(), &clock_, Anchor());
  }
  std::string Anchor() const { return dir_.Join("audit.anchor"); }

  TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, HashMatchesDocumentedDefinition) {
  AuditEvent e;
  e.type = "auth.login";
  e.actor = "alice";
  e.subject = "plc-1";
  e.outcome = "success";
  e.details = {{"mfa", "totp"}, {"channel", "grpc"}};
  auto seq = log_->Append(e);
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(*seq, 1);
  auto rows = log_->List({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  const AuditRow& r = (*rows)[0];
  EXPECT_EQ(r.time, "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(r.prev_hash, std::string(64, '0'));
  const std::string canonical =
      R"({"actor":"alice","details":{"channel":"grpc","mfa":"totp"},"outcome":"success","seq":1,)"
      R"("source":"","subject":"plc-1","time":"2023-11-14T22:13:20.000000Z","type":"auth.login"})";
  EXPECT_EQ(CanonicalAuditJson(1, r.time, r.event), canonical);
  EXPECT_EQ(r.hash, Sha256HexIndependent(std::string(64, '0') + "\n" + canonical));
  EXPECT_EQ(r.event.details, e.details);
}

TEST_F(AuditLogTest, HundredAppendsVerifyAndAnchorTracksHead) {
  for (int i = 1; i <= 100; ++i) {
    clock_.Advance(std::chrono::microseconds(1'500'001));
    auto seq = log_->Append(Event(i % 2 ? "auth.login" : "policy.decision", "alice", i));
    ASSERT_TRUE(seq.ok()) << seq.status();
    ASSERT_EQ(*seq, i);
  }
  auto v = log_->Verify();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_EQ(v->rows_checked, 100);
  EXPECT_FALSE(v->first_bad_seq.has_value());

  AuditFilter all;
  all.limit = 1000;
  auto rows = log_->List(all);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 100u);
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*rows)[i].seq, static_cast<int64_t>(i + 1));
    if (i > 0) {
      EXPECT_EQ((*rows)[i].prev_hash, (*rows)[i - 1].hash);
    }
  }
  EXPECT_EQ(ReadAll(Anchor()), "100 " + rows->back().hash + "\n");
  struct stat st;
  ASSERT_EQ(::stat(Anchor().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditLogTest, ListFilters) {
  ASSERT_TRUE(log_->Append(Event("auth.login", "alice", 1)).ok());         // t0
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(log_->Append(Event("auth.mfa_failure", "bob", 2)).ok());     // t0+10
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(log_->Append(Event("policy.decision", "alice", 3)).ok());    // t0+20
  ASSERT_TRUE(log_->Append(Event("admin.user_add", "alice", 4)).ok());     // t0+20
  ASSERT_TRUE(log_->Append(Event("key.add", "alice", 5)).ok());            // t0+20

  auto seqs = [&](const AuditFilter& f) {
    std::vector<int64_t> out;
    auto rows = log_->List(f);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (rows.ok()) {
      for (const auto& r : *rows) out.push_back(r.seq);
    }
    return out;
  };
  AuditFilter f;
  f.type_prefix = "auth.";
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{1, 2}));
  f.type_prefix = "AUTH.";
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{}));  // case-sensitive
  f.type_prefix = "auth_";
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{}));  // '_' literal, not a wildcard
  f = {};
  f.actor = "alice";
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{1, 3, 4, 5}));
  f = {};
  f.since_unix = 1'700'000'010;
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{2, 3, 4, 5}));
  f.since_unix = 1'700'000'011;
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{3, 4, 5}));
  f = {};
  f.limit = 2;
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{4, 5}));  // newest two, ascending
  f.newest = false;
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{1, 2}));
  f.after_seq = 2;
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{3, 4}));
  f = {};
  f.actor = "alice";
  f.type_prefix = "admin";
  f.since_unix = 1'700'000'005;
  EXPECT_EQ(seqs(f), (std::vector<int64_t>{4}));
  f = {};
  f.limit = 0;
  EXPECT_EQ(log_->List(f).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditLogTest, ConcurrentAppendsFormOneValidChain) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!log_->Append(Event("session.start", "user" + std::to_string(t), i)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto v = log_->Verify();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_EQ(v->rows_checked, kThreads * kPerThread);
  EXPECT_EQ(ReadAll(Anchor()).substr(0, 4), "200 ");
}

TEST_F(AuditLogTest, ChainContinuesAcrossReopen) {
  ASSERT_TRUE(log_->Append(Event("auth.login", "alice")).ok());
  log_.reset();
  db_.reset();
  auto db = Database::Open(dir_.Join("p.db"), &clock_);
  ASSERT_TRUE(db.ok());
  db_ = std::move(*db);
  AuditLog log(db_.get(), &clock_, Anchor());
  EXPECT_EQ(*log.Append(Event("auth.login", "bob")), 2);
  auto v = log.Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_EQ(v->rows_checked, 2);
}

TEST_F(AuditLogTest, VerifyBeyondOneBatch) {
  for (int i = 0; i < 2345; ++i) ASSERT_TRUE(log_->Append(Event("auth.login", "alice", i)).ok());
  auto v = log_->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_EQ(v->rows_checked, 2345);
}

TEST_F(AuditLogTest, InvalidUtf8IsReplacedAndStillVerifies) {
  AuditEvent e = Event("auth.login", "mal\xff\xfeory");
  e.details = {{"reason", "x\xc3"}, {"channel", "ssh"}};
  ASSERT_TRUE(log_->Append(e).ok());
  auto rows = log_->List({});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].event.actor, "mal\xef\xbf\xbd\xef\xbf\xbdory");
  EXPECT_EQ((*rows)[0].event.details["reason"], "x\xef\xbf\xbd");
  auto v = log_->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
}

TEST_F(AuditLogTest, BidiAndZeroWidthCharactersAreEscapedWithRawBytesKeptAndStillVerify) {
  const std::string raw = "/srv/report\xE2\x80\xAE" "fdp.exe\xE2\x80\x8B";
  AuditEvent e = Event("file.transfer", "bob");
  e.subject = "rtu\xE2\x80\x8B-01";
  e.details["path"] = raw;
  ASSERT_TRUE(log_->Append(e).ok());
  auto rows = log_->List({});
  ASSERT_TRUE(rows.ok());
  const auto& d = (*rows)[0].event.details;
  EXPECT_EQ(d["path"], "/srv/report\\u202efdp.exe\\u200b");
  EXPECT_EQ(d["path_hex"], HexEncode(raw));
  EXPECT_EQ((*rows)[0].event.subject, "rtu\\u200b-01");
  auto v = log_->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
}

TEST_F(AuditLogTest, OverlongFieldsAreTruncatedNotLost) {
  AuditEvent e = Event("auth.login", std::string(5000, 'a') + "\xc3\xa9");
  ASSERT_TRUE(log_->Append(e).ok());
  auto rows = log_->List({});
  ASSERT_TRUE(rows.ok());
  EXPECT_LE((*rows)[0].event.actor.size(), kMaxAuditFieldBytes);
  EXPECT_NE((*rows)[0].event.actor.find("[truncated]"), std::string::npos);
  EXPECT_TRUE(log_->Verify()->ok);
}

TEST_F(AuditLogTest, RejectsOversizedDetails) {
  AuditEvent big = Event("recording.verify", "alice");
  big.details["message"] = std::string(kMaxAuditDetailsBytes, 'z');
  EXPECT_EQ(log_->Append(big).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(log_->List({})->empty());
}

TEST_F(AuditLogTest, AppendRefusedInsideStoreTransaction) {
  absl::Status st = db_->InTransaction([&]() -> absl::Status {
    return log_->Append(Event("admin.user_add", "root")).status();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(log_->List({})->empty());
}

TEST_F(AuditLogTest, WithoutAnchor) {
  AuditLog log(db_.get(), &clock_, "");
  ASSERT_TRUE(log.Append(Event("auth.login", "alice")).ok());
  auto v = log.Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_FALSE(std::ifstream(Anchor()).good());
}

TEST_F(AuditLogTest, EmptyLogVerifies) {
  auto v = log_->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->message;
  EXPECT_EQ(v->rows_checked, 0);
}

TEST_F(AuditLogTest, AnchorWriteFailureIsReported) {
  AuditLog log(db_.get(), &clock_, dir_.Join("no-such-dir/audit.anchor"));
  auto seq = log.Append(Event("auth.login", "alice"));
  EXPECT_EQ(seq.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace portcullis::audit
