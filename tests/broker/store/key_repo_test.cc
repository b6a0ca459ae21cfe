#include "broker/store/key_repo.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "broker/common/clock.h"
#include "broker/store/user_repo.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

class KeyRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    keys_ = std::make_unique<KeyRepo>(db_.get());
    users_ = std::make_unique<UserRepo>(db_.get());
    for (const char* name : {"alice", "bob"}) {
      UserRecord u;
      u.name = name;
      ASSERT_TRUE(users_->Create(u).ok());
    }
  }

  // A record whose blob embeds NUL bytes, as SSH wire blobs do.
  static UserKeyRecord Key(std::string user, char tag) {
    UserKeyRecord k;
    k.user = std::move(user);
    k.blob = std::string("\0\0\0\x0bssh-ed25519\0\0\0\x20", 19) + std::string(32, tag);
    k.fingerprint = std::string("SHA256:fp-") + tag;
    k.type = "ssh-ed25519";
    k.comment = std::string("key ") + tag;
    return k;
  }

  testing::TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<KeyRepo> keys_;
  std::unique_ptr<UserRepo> users_;
};

TEST_F(KeyRepoTest, AddListRoundTripKeepsBinaryBlob) {
  UserKeyRecord a = Key("alice", 'a');
  ASSERT_TRUE(keys_->Add(a).ok());
  clock_.Advance(std::chrono::seconds(5));
  UserKeyRecord b = Key("alice", 'b');
  b.comment = "";
  ASSERT_TRUE(keys_->Add(b).ok());

  auto got = keys_->List("alice");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].user, "alice");
  EXPECT_EQ((*got)[0].fingerprint, a.fingerprint);
  EXPECT_EQ((*got)[0].blob, a.blob);
  EXPECT_EQ((*got)[0].blob.size(), 51u);
  EXPECT_EQ((*got)[0].type, "ssh-ed25519");
  EXPECT_EQ((*got)[0].comment, "key a");
  EXPECT_EQ((*got)[0].created_at, 1'700'000'000);
  EXPECT_EQ((*got)[1].fingerprint, b.fingerprint);
  EXPECT_EQ((*got)[1].comment, "");
  EXPECT_EQ((*got)[1].created_at, 1'700'000'005);

  auto none = keys_->List("bob");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto unknown = keys_->List("nobody");
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
}

TEST_F(KeyRepoTest, ListKeepsTheOrderOfAddingWithinOneSecond) {
  for (char tag : {'z', 'a', 'm'}) ASSERT_TRUE(keys_->Add(Key("bob", tag)).ok());
  auto got = keys_->List("bob");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].fingerprint, "SHA256:fp-z");
  EXPECT_EQ((*got)[1].fingerprint, "SHA256:fp-a");
  EXPECT_EQ((*got)[2].fingerprint, "SHA256:fp-m");
}

TEST_F(KeyRepoTest, DuplicatePerUserRefusedButSameKeyForAnotherUserAllowed) {
  ASSERT_TRUE(keys_->Add(Key("alice", 'a')).ok());
  absl::Status dup = keys_->Add(Key("alice", 'a'));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(std::string(dup.message()), "key SHA256:fp-a is already registered for alice");
  EXPECT_TRUE(keys_->Add(Key("bob", 'a')).ok());
}

TEST_F(KeyRepoTest, AddForUnknownUserIsNotFound) {
  absl::Status st = keys_->Add(Key("mallory", 'a'));
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(st.message()), "user mallory not found");
}

TEST_F(KeyRepoTest, AddValidatesEveryField) {
  UserKeyRecord k = Key("alice", 'a');
  k.user = "";
  EXPECT_EQ(keys_->Add(k).code(), absl::StatusCode::kInvalidArgument);
  k = Key("alice", 'a');
  k.fingerprint = "MD5:aa:bb";
  EXPECT_EQ(keys_->Add(k).code(), absl::StatusCode::kInvalidArgument);
  k = Key("alice", 'a');
  k.fingerprint = "";
  EXPECT_EQ(keys_->Add(k).code(), absl::StatusCode::kInvalidArgument);
  k = Key("alice", 'a');
  k.blob = "";
  EXPECT_EQ(keys_->Add(k).code(), absl::StatusCode::kInvalidArgument);
  k = Key("alice", 'a');
  k.blob = std::string(KeyRepo::kMaxBlobBytes + 1, 'x');
  EXPECT_EQ(keys_->Add(k).code(), absl::StatusCode::kInvalidArgument);
  k = Key("alice", 'a');
  k.type = "";
  EXPECT_EQ(keys_->Add(k).code(), absl::StatusCode::kInvalidArgument);
  k = Key("alice", 'a');
  k.comment = std::string(KeyRepo::kMaxCommentBytes + 1, 'c');
  EXPECT_EQ(keys_->Add(k).code(), absl::StatusCode::kInvalidArgument);
  auto got = keys_->List("alice");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST_F(KeyRepoTest, RemoveIsPerUser) {
  ASSERT_TRUE(keys_->Add(Key("alice", 'a')).ok());
  ASSERT_TRUE(keys_->Add(Key("bob", 'a')).ok());
  EXPECT_EQ(keys_->Remove("alice", "SHA256:fp-z").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(keys_->Remove("mallory", "SHA256:fp-a").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(keys_->Remove("alice", "SHA256:fp-a").ok());
  EXPECT_EQ(keys_->Remove("alice", "SHA256:fp-a").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(keys_->List("alice")->empty());
  EXPECT_EQ(keys_->List("bob")->size(), 1u);
}

TEST_F(KeyRepoTest, HasKeyMatchesExactBlobForThatUserOnly) {
  UserKeyRecord a = Key("alice", 'a');
  ASSERT_TRUE(keys_->Add(a).ok());
  EXPECT_TRUE(*keys_->HasKey("alice", a.blob));
  EXPECT_FALSE(*keys_->HasKey("bob", a.blob));
  EXPECT_FALSE(*keys_->HasKey("alice", Key("alice", 'b').blob));
  // A prefix or an extension of the blob is another key.
  EXPECT_FALSE(*keys_->HasKey("alice", a.blob.substr(0, a.blob.size() - 1)));
  EXPECT_FALSE(*keys_->HasKey("alice", a.blob + "x"));
  EXPECT_FALSE(*keys_->HasKey("alice", ""));
  EXPECT_FALSE(*keys_->HasKey("", a.blob));
  EXPECT_FALSE(*keys_->HasKey("alice", std::string(KeyRepo::kMaxBlobBytes + 1, 'x')));
  ASSERT_TRUE(keys_->Remove("alice", a.fingerprint).ok());
  EXPECT_FALSE(*keys_->HasKey("alice", a.blob));
}

TEST_F(KeyRepoTest, DeletingTheUserDeletesTheirKeys) {
  ASSERT_TRUE(keys_->Add(Key("bob", 'a')).ok());
  ASSERT_TRUE(keys_->Add(Key("bob", 'b')).ok());
  ASSERT_TRUE(keys_->Add(Key("alice", 'a')).ok());
  ASSERT_TRUE(users_->Delete("bob").ok());
  EXPECT_TRUE(keys_->List("bob")->empty());
  EXPECT_FALSE(*keys_->HasKey("bob", Key("bob", 'a').blob));
  // A new bob does not inherit the old bob's keys.
  UserRecord u;
  u.name = "bob";
  ASSERT_TRUE(users_->Create(u).ok());
  EXPECT_TRUE(keys_->List("bob")->empty());
  EXPECT_EQ(keys_->List("alice")->size(), 1u);
  testing::RawDb raw(dir_.Join("p.db"));
  EXPECT_EQ(raw.QueryText("SELECT COUNT(*) FROM user_keys"), "1");
}

TEST_F(KeyRepoTest, ConcurrentAddsOfOneKeyExactlyOneWins) {
  std::atomic<int> ok{0}, exists{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      absl::Status st = keys_->Add(Key("alice", 'a'));
      if (st.ok()) ++ok;
      if (absl::IsAlreadyExists(st)) ++exists;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), 7);
}

}  // namespace
}  // namespace portcullis::store
