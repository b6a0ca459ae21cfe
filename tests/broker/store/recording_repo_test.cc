#include "broker/store/recording_repo.h"

#include <gtest/gtest.h>

#include "broker/common/clock.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1'000'000;

class RecordingRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    repo_ = std::make_unique<RecordingRepo>(db_.get());
  }

  static RecordingRecord Rec(const std::string& session, int channel, const std::string& user,
                             int64_t started_us) {
    RecordingRecord r;
    r.session_id = session;
    r.channel = channel;
    r.id = session + "." + std::to_string(channel);
    r.user = user;
    r.login = "maint";
    r.target = "rtu-01";
    r.protocol = "ssh";
    r.source = "127.0.0.1:50000";
    r.path = "2026/11/23/" + r.id + ".cast";
    r.started_us = started_us;
    return r;
  }

  static RecordingEndRecord End(int64_t ended_us) {
    RecordingEndRecord e;
    e.state = "complete";
    e.end_reason = "client-closed";
    e.ended_us = ended_us;
    e.size = 1234;
    e.sha256_hex = std::string(64, 'a');
    return e;
  }

  testing::TempDir dir_;
  FakeClock clock_{1795424400};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RecordingRepo> repo_;
};

TEST_F(RecordingRepoTest, InsertGetFinish) {
  ASSERT_TRUE(repo_->Insert(Rec("s1", 0, "bob", 10 * kDay)).ok());
  auto r = repo_->Get("s1.0");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->user, "bob");
  EXPECT_EQ(r->state, "recording");
  EXPECT_EQ(r->path, "2026/11/23/s1.0.cast");
  EXPECT_EQ(r->started_us, 10 * kDay);
  EXPECT_FALSE(r->legal_hold);
  EXPECT_FALSE(r->deleted());

  ASSERT_TRUE(repo_->Finish("s1.0", End(11 * kDay)).ok());
  r = repo_->Get("s1.0");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, "complete");
  EXPECT_EQ(r->ended_us, 11 * kDay);
  EXPECT_EQ(r->size, 1234u);
  EXPECT_EQ(r->sha256_hex, std::string(64, 'a'));
  EXPECT_EQ(r->end_reason, "client-closed");

  // Only once.
  EXPECT_EQ(repo_->Finish("s1.0", End(12 * kDay)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(repo_->Finish("nope.0", End(12 * kDay)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(repo_->Get("nope.0").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RecordingRepoTest, InsertRefusesBadRowsAndDuplicates) {
  ASSERT_TRUE(repo_->Insert(Rec("s1", 0, "bob", 1)).ok());
  EXPECT_EQ(repo_->Insert(Rec("s1", 0, "bob", 1)).code(), absl::StatusCode::kAlreadyExists);

  auto bad_id = Rec("s2", 0, "bob", 1);
  bad_id.id = "s2.1";
  EXPECT_EQ(repo_->Insert(bad_id).code(), absl::StatusCode::kInvalidArgument);
  auto bad_session = Rec("s/../x", 0, "bob", 1);
  EXPECT_EQ(repo_->Insert(bad_session).code(), absl::StatusCode::kInvalidArgument);
  for (const char* path : {"/etc/passwd", "../x.cast", "a/../../x.cast", "a//b.cast", "./a.cast", ""}) {
    auto r = Rec("s3", 0, "bob", 1);
    r.path = path;
    EXPECT_EQ(repo_->Insert(r).code(), absl::StatusCode::kInvalidArgument) << path;
  }
  auto no_user = Rec("s4", 0, "", 1);
  EXPECT_EQ(repo_->Insert(no_user).code(), absl::StatusCode::kInvalidArgument);
  auto bad_state = Rec("s5", 0, "bob", 1);
  bad_state.state = "sealed";
  EXPECT_EQ(repo_->Insert(bad_state).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RecordingRepoTest, ListFiltersNewestFirst) {
  ASSERT_TRUE(repo_->Insert(Rec("a", 0, "bob", 1 * kDay)).ok());
  ASSERT_TRUE(repo_->Insert(Rec("b", 0, "carol", 2 * kDay)).ok());
  auto c = Rec("c", 0, "bob", 3 * kDay);
  c.target = "plc-09";
  ASSERT_TRUE(repo_->Insert(c).ok());

  auto all = repo_->List({});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "c.0");
  EXPECT_EQ((*all)[2].id, "a.0");

  RecordingFilter f;
  f.user = "bob";
  auto bobs = repo_->List(f);
  ASSERT_TRUE(bobs.ok());
  EXPECT_EQ(bobs->size(), 2u);
  f.target = "plc-09";
  EXPECT_EQ(repo_->List(f)->size(), 1u);

  RecordingFilter since;
  since.since_us = 2 * kDay;
  EXPECT_EQ(repo_->List(since)->size(), 2u);
  RecordingFilter one;
  one.limit = 1;
  ASSERT_EQ(repo_->List(one)->size(), 1u);
  EXPECT_EQ(repo_->List(one)->front().id, "c.0");
  RecordingFilter bad;
  bad.limit = 0;
  EXPECT_EQ(repo_->List(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RecordingRepoTest, ActiveRowsBecomeTruncated) {
  ASSERT_TRUE(repo_->Insert(Rec("a", 0, "bob", 1)).ok());
  ASSERT_TRUE(repo_->Insert(Rec("b", 0, "bob", 2)).ok());
  ASSERT_TRUE(repo_->Finish("b.0", End(3)).ok());
  auto active = repo_->ListActive();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().id, "a.0");
  ASSERT_TRUE(repo_->MarkTruncated("a.0", 4096, 5, "the broker stopped").ok());
  auto a = repo_->Get("a.0");
  EXPECT_EQ(a->state, "truncated");
  EXPECT_EQ(a->size, 4096u);
  EXPECT_EQ(a->ended_us, 5);
  EXPECT_EQ(a->end_reason, "broker-stopped");
  EXPECT_EQ(a->failure, "the broker stopped");
  EXPECT_TRUE(repo_->ListActive()->empty());
  EXPECT_EQ(repo_->MarkTruncated("b.0", 1, 1, "x").code(), absl::StatusCode::kNotFound);
}

TEST_F(RecordingRepoTest, ExpiredSkipsHeldActiveAndDeleted) {
  // old: ended day 2; held: ended day 2, on hold; live: started day 1, still
  // recording; truncated: started day 1, no end; fresh: ended day 20.
  for (const char* s : {"old", "held", "live", "trunc", "fresh"}) {
    ASSERT_TRUE(repo_->Insert(Rec(s, 0, "bob", 1 * kDay)).ok());
  }
  ASSERT_TRUE(repo_->Finish("old.0", End(2 * kDay)).ok());
  ASSERT_TRUE(repo_->Finish("held.0", End(2 * kDay)).ok());
  ASSERT_TRUE(repo_->SetLegalHold("held.0", true).ok());
  ASSERT_TRUE(repo_->MarkTruncated("trunc.0", 1, 0, "x").ok());
  ASSERT_TRUE(repo_->Finish("fresh.0", End(20 * kDay)).ok());

  auto expired = repo_->ListExpired(10 * kDay, 100);
  ASSERT_TRUE(expired.ok()) << expired.status();
  std::vector<std::string> ids;
  for (const auto& r : *expired) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"old.0", "trunc.0"}));

  ASSERT_TRUE(repo_->MarkDeleted("old.0", 12345).ok());
  EXPECT_EQ(repo_->Get("old.0")->deleted_at, 12345);
  EXPECT_EQ(repo_->MarkDeleted("old.0", 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(repo_->MarkDeleted("held.0", 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(repo_->Get("held.0")->deleted());
  EXPECT_EQ(repo_->ListExpired(10 * kDay, 100)->size(), 1u);  // trunc.0

  // Deleted rows stay, listed only on request; a deleted one cannot be held.
  EXPECT_EQ(repo_->List({})->size(), 4u);
  RecordingFilter with_deleted;
  with_deleted.include_deleted = true;
  EXPECT_EQ(repo_->List(with_deleted)->size(), 5u);
  EXPECT_EQ(repo_->SetLegalHold("old.0", true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(repo_->SetLegalHold("nope.0", true).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(repo_->SetLegalHold("held.0", false).ok());
  EXPECT_EQ(repo_->ListExpired(10 * kDay, 100)->size(), 2u);
}

TEST(RecordingPathTest, ContainedRelativePaths) {
  EXPECT_TRUE(IsContainedRelativePath("2026/11/23/a.0.cast"));
  EXPECT_TRUE(IsContainedRelativePath("a.cast"));
  EXPECT_TRUE(IsContainedRelativePath("..a/b"));
  for (const char* bad : {"", "/a", "a/", "a//b", "./a", "a/./b", "../a", "a/..", "a/../b"}) {
    EXPECT_FALSE(IsContainedRelativePath(bad)) << bad;
  }
  EXPECT_FALSE(IsContainedRelativePath(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace portcullis::store
