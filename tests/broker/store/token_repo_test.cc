#include "broker/store/token_repo.h"

#include <gtest/gtest.h>

#include "broker/common/clock.h"
#include "broker/store/user_repo.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

class TokenRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    tokens_ = std::make_unique<TokenRepo>(db_.get());
    UserRepo users(db_.get());
    for (const char* name : {"alice", "bob"}) {
      UserRecord u;
      u.name = name;
      ASSERT_TRUE(users.Create(u).ok());
    }
  }

  static TokenRecord Token(char fill, std::string user, int64_t expires) {
    TokenRecord t;
    t.token_hash = std::string(64, fill);
    t.user = std::move(user);
    t.expires_at = expires;
    return t;
  }

  testing::TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<TokenRepo> tokens_;
};

TEST_F(TokenRepoTest, InsertGetRoundTrip) {
  TokenRecord t = Token('a', "alice", 1'700'003'600);
  t.kind = "ssh-cert";
  ASSERT_TRUE(tokens_->Insert(t).ok());
  auto got = tokens_->Get(t.token_hash);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->user, "alice");
  EXPECT_EQ(got->issued_at, 1'700'000'000);
  EXPECT_EQ(got->expires_at, 1'700'003'600);
  EXPECT_FALSE(got->revoked);
  EXPECT_EQ(got->kind, "ssh-cert");
  EXPECT_TRUE(absl::IsNotFound(tokens_->Get(std::string(64, 'f')).status()));
}

TEST_F(TokenRepoTest, InsertValidates) {
  EXPECT_EQ(tokens_->Insert(Token('a', "alice", 1'700'003'600)).code(), absl::StatusCode::kOk);
  EXPECT_EQ(tokens_->Insert(Token('a', "alice", 1'700'003'600)).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(tokens_->Insert(Token('b', "mallory", 1'700'003'600)).code(),
            absl::StatusCode::kNotFound);
  TokenRecord raw_token = Token('c', "alice", 1'700'003'600);
  raw_token.token_hash = "pc_live_NOT_A_HASH_but_the_token_itself";
  absl::Status st = tokens_->Insert(raw_token);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(st.message()).find("pc_live"), std::string::npos);
  TokenRecord upper = Token('C', "alice", 1'700'003'600);
  EXPECT_EQ(tokens_->Insert(upper).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tokens_->Insert(Token('d', "alice", 1'700'000'000)).code(),
            absl::StatusCode::kInvalidArgument);  // expires when issued
}

TEST_F(TokenRepoTest, RevokeAndRevokeAll) {
  ASSERT_TRUE(tokens_->Insert(Token('1', "alice", 1'700'003'600)).ok());
  ASSERT_TRUE(tokens_->Insert(Token('2', "alice", 1'700'003'600)).ok());
  ASSERT_TRUE(tokens_->Insert(Token('3', "bob", 1'700'003'600)).ok());

  ASSERT_TRUE(tokens_->Revoke(std::string(64, '1')).ok());
  EXPECT_TRUE(tokens_->Revoke(std::string(64, '1')).ok());  // idempotent
  EXPECT_TRUE(tokens_->Get(std::string(64, '1'))->revoked);
  EXPECT_FALSE(tokens_->Get(std::string(64, '2'))->revoked);
  EXPECT_TRUE(absl::IsNotFound(tokens_->Revoke(std::string(64, '9'))));

  ASSERT_TRUE(tokens_->RevokeAllForUser("alice").ok());
  EXPECT_TRUE(tokens_->Get(std::string(64, '2'))->revoked);
  EXPECT_FALSE(tokens_->Get(std::string(64, '3'))->revoked);
  EXPECT_TRUE(tokens_->RevokeAllForUser("nobody").ok());
}

TEST_F(TokenRepoTest, PurgeExpired) {
  ASSERT_TRUE(tokens_->Insert(Token('1', "alice", 1'700'000'100)).ok());
  ASSERT_TRUE(tokens_->Insert(Token('2', "alice", 1'700'000'200)).ok());
  ASSERT_TRUE(tokens_->Insert(Token('3', "bob", 1'700'000'300)).ok());
  ASSERT_TRUE(tokens_->Revoke(std::string(64, '3')).ok());

  auto n = tokens_->PurgeExpired(1'700'000'050);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  n = tokens_->PurgeExpired(1'700'000'200);  // expires_at <= now is expired
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE(absl::IsNotFound(tokens_->Get(std::string(64, '1')).status()));
  EXPECT_TRUE(absl::IsNotFound(tokens_->Get(std::string(64, '2')).status()));
  EXPECT_TRUE(tokens_->Get(std::string(64, '3'))->revoked);  // kept until it expires
  EXPECT_EQ(*tokens_->PurgeExpired(1'800'000'000), 1);
}

}  // namespace
}  // namespace portcullis::store
