#include "broker/store/user_repo.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "broker/common/clock.h"
#include "broker/store/token_repo.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

using testing::RawDb;
using testing::TempDir;

class UserRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    users_ = std::make_unique<UserRepo>(db_.get());
  }

  static UserRecord Bob() {
    UserRecord u;
    u.name = "bob";
    u.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
    u.totp_seed_sealed = std::string("\x01\x00sealed\xff", 9);
    u.roles = {"operator", "vendor-acme", "operator"};
    return u;
  }

  TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<UserRepo> users_;
};

TEST_F(UserRepoTest, CreateGetRoundTrip) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  auto got = users_->Get("bob");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_GT(got->id, 0);
  EXPECT_EQ(got->name, "bob");
  EXPECT_EQ(got->password_hash, Bob().password_hash);
  EXPECT_EQ(got->totp_seed_sealed, Bob().totp_seed_sealed);  // binary-safe
  EXPECT_EQ(got->totp_last_counter, -1);
  EXPECT_FALSE(got->disabled);
  EXPECT_EQ(got->roles, (std::vector<std::string>{"operator", "vendor-acme"}));
  EXPECT_EQ(got->created_at, 1'700'000'000);
}

TEST_F(UserRepoTest, CreateDuplicateIsAlreadyExists) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  absl::Status st = users_->Create(Bob());
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(std::string(st.message()), "user bob already exists");
}

TEST_F(UserRepoTest, CreateRejectsBadNames) {
  UserRecord u = Bob();
  u.name = "";
  EXPECT_EQ(users_->Create(u).code(), absl::StatusCode::kInvalidArgument);
  u.name = std::string(300, 'a');
  EXPECT_EQ(users_->Create(u).code(), absl::StatusCode::kInvalidArgument);
  u = Bob();
  u.roles = {"ok", ""};
  EXPECT_EQ(users_->Create(u).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::IsNotFound(users_->Get("bob").status()));  // nothing half-created
}

TEST_F(UserRepoTest, MissingUserIsNotFoundEverywhere) {
  EXPECT_TRUE(absl::IsNotFound(users_->Get("ghost").status()));
  EXPECT_TRUE(absl::IsNotFound(users_->SetRoles("ghost", {"r"})));
  EXPECT_TRUE(absl::IsNotFound(users_->SetDisabled("ghost", true)));
  EXPECT_TRUE(absl::IsNotFound(users_->SetPasswordHash("ghost", "h")));
  EXPECT_TRUE(absl::IsNotFound(users_->SetTotpSeed("ghost", "s").status()));
  EXPECT_TRUE(absl::IsNotFound(users_->ConsumeTotpCounter("ghost", 1)));
  EXPECT_TRUE(absl::IsNotFound(users_->Delete("ghost")));
}

TEST_F(UserRepoTest, ListSortedWithRoles) {
  UserRecord a = Bob();
  a.name = "zoe";
  a.roles = {"admin"};
  ASSERT_TRUE(users_->Create(a).ok());
  ASSERT_TRUE(users_->Create(Bob()).ok());
  UserRecord c = Bob();
  c.name = "carl";
  c.roles = {};
  ASSERT_TRUE(users_->Create(c).ok());
  auto list = users_->List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].name, "bob");
  EXPECT_EQ((*list)[0].roles, (std::vector<std::string>{"operator", "vendor-acme"}));
  EXPECT_EQ((*list)[1].name, "carl");
  EXPECT_TRUE((*list)[1].roles.empty());
  EXPECT_EQ((*list)[2].name, "zoe");
  EXPECT_EQ((*list)[2].roles, (std::vector<std::string>{"admin"}));
}

TEST_F(UserRepoTest, Setters) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  ASSERT_TRUE(users_->SetRoles("bob", {"reviewer", "admin"}).ok());
  ASSERT_TRUE(users_->SetDisabled("bob", true).ok());
  ASSERT_TRUE(users_->SetPasswordHash("bob", "new-hash").ok());
  ASSERT_TRUE(users_->ConsumeTotpCounter("bob", 100).ok());
  auto got = users_->Get("bob");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->roles, (std::vector<std::string>{"reviewer", "admin"}));
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->password_hash, "new-hash");
  EXPECT_EQ(got->totp_last_counter, 100);

  const int64_t generation_before = got->login_generation;
  auto generation = users_->SetTotpSeed("bob", "new-seed");
  ASSERT_TRUE(generation.ok()) << generation.status();
  EXPECT_EQ(*generation, generation_before + 1);  // logins made with the old seed end
  got = users_->Get("bob");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->totp_seed_sealed, "new-seed");
  EXPECT_EQ(got->login_generation, *generation);
  EXPECT_EQ(got->totp_last_counter, -1);  // reset with the new seed
  EXPECT_TRUE(users_->ConsumeTotpCounter("bob", 5).ok());
}

TEST_F(UserRepoTest, ConsumeTotpCounterRefusesReplay) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  EXPECT_TRUE(users_->ConsumeTotpCounter("bob", 0).ok());
  EXPECT_TRUE(users_->ConsumeTotpCounter("bob", 5).ok());
  EXPECT_EQ(users_->ConsumeTotpCounter("bob", 5).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(users_->ConsumeTotpCounter("bob", 4).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(users_->ConsumeTotpCounter("bob", 6).ok());
  EXPECT_EQ(users_->ConsumeTotpCounter("bob", -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->Get("bob")->totp_last_counter, 6);
}

TEST_F(UserRepoTest, ConcurrentSameCounterExactlyOneWins) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  constexpr int kRounds = 100;
  for (int round = 1; round <= kRounds; ++round) {
    std::latch start(2);
    std::atomic<int> ok{0};
    std::atomic<int> replay{0};
    auto racer = [&] {
      start.arrive_and_wait();
      absl::Status st = users_->ConsumeTotpCounter("bob", round);
      if (st.ok()) ++ok;
      if (absl::IsFailedPrecondition(st)) ++replay;
    };
    std::thread a(racer), b(racer);
    a.join();
    b.join();
    ASSERT_EQ(ok.load(), 1) << "round " << round;
    ASSERT_EQ(replay.load(), 1) << "round " << round;
  }
}

TEST_F(UserRepoTest, AuthAttemptsCountedByNameEvenForUnknownUsers) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  const int64_t w = 100;  // window, seconds
  EXPECT_EQ(*users_->CountAuthAttempt("bob", 1000, w, 3), 1);
  EXPECT_EQ(*users_->CountAuthAttempt("bob", 1050, w, 3), 2);
  EXPECT_EQ(*users_->CountAuthAttempt("nobody", 1060, w, 3), 1);
  EXPECT_EQ(*users_->CountAuthAttempt("bob", 1100, w, 3), 3);
  // At the limit: refused and not counted.
  EXPECT_TRUE(absl::IsResourceExhausted(users_->CountAuthAttempt("bob", 1101, w, 3).status()));
  EXPECT_EQ(*users_->AuthAttemptsInWindow("bob", 1101, w), 3);
  EXPECT_EQ(*users_->AuthAttemptsInWindow("nobody", 1101, w), 1);
  // The window runs from the last counted attempt (1100); at 1200 it lapsed.
  EXPECT_EQ(*users_->AuthAttemptsInWindow("bob", 1199, w), 3);
  EXPECT_EQ(*users_->AuthAttemptsInWindow("bob", 1200, w), 0);
  EXPECT_EQ(*users_->CountAuthAttempt("bob", 1200, w, 3), 1);
  EXPECT_EQ(users_->CountAuthAttempt("", 1, w, 3).status().code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(users_->ClearAuthFailures("bob").ok());
  EXPECT_EQ(*users_->AuthAttemptsInWindow("bob", 1200, w), 0);
  EXPECT_EQ(*users_->AuthAttemptsInWindow("nobody", 1100, w), 1);

  ASSERT_TRUE(users_->CountAuthAttempt("bob", 1300, w, 3).ok());
  auto purged = users_->PurgeAuthFailuresBefore(1200);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);  // nobody, last at 1060
  EXPECT_EQ(*users_->AuthAttemptsInWindow("nobody", 1060, 1000), 0);
  EXPECT_EQ(*users_->AuthAttemptsInWindow("bob", 1300, w), 1);
}

// The check and the count are one statement: of many racing attempts
// exactly `limit` are counted, and the rest are told the name is locked,
// also when they come through two connections to the file (as two brokers
// sharing one database would).
TEST_F(UserRepoTest, RacingAttemptsCountExactlyTheLimit) {
  constexpr int kThreads = 16, kLimit = 5;
  auto second = Database::Open(dir_.Join("p.db"), &clock_);
  ASSERT_TRUE(second.ok()) << second.status();
  UserRepo other(second->get());
  for (int round = 0; round < 20; ++round) {
    const std::string name = "racer" + std::to_string(round);
    std::atomic<int> counted{0}, locked{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      UserRepo* repo = i % 2 == 0 ? users_.get() : &other;
      threads.emplace_back([&, repo] {
        auto n = repo->CountAuthAttempt(name, 5000, 900, kLimit);
        if (n.ok()) ++counted;
        if (absl::IsResourceExhausted(n.status())) ++locked;
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(counted.load(), kLimit) << "round " << round;
    ASSERT_EQ(locked.load(), kThreads - kLimit) << "round " << round;
    ASSERT_EQ(*users_->AuthAttemptsInWindow(name, 5000, 900), kLimit);
  }
}

TEST_F(UserRepoTest, DisableAndResetAdvanceTheLoginGeneration) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  EXPECT_EQ(users_->Get("bob")->login_generation, 1);
  ASSERT_TRUE(users_->SetDisabled("bob", true).ok());
  EXPECT_EQ(users_->Get("bob")->login_generation, 2);
  ASSERT_TRUE(users_->SetDisabled("bob", false).ok());  // enabling does not go back
  EXPECT_EQ(users_->Get("bob")->login_generation, 2);
  auto g = users_->ResetCredentials("bob", "$argon2id$new", "sealed-new");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*g, 3);
  auto bob = users_->Get("bob");
  EXPECT_EQ(bob->password_hash, "$argon2id$new");
  EXPECT_EQ(bob->totp_seed_sealed, "sealed-new");
  EXPECT_EQ(bob->totp_last_counter, -1);
  EXPECT_EQ(*users_->AdvanceLoginGeneration("bob"), 4);
  EXPECT_TRUE(absl::IsNotFound(users_->AdvanceLoginGeneration("nobody").status()));
  EXPECT_TRUE(absl::IsNotFound(users_->ResetCredentials("nobody", "h", "s").status()));
  // A user deleted and created again gets a new id (ids are never reused).
  const int64_t old_id = bob->id;
  ASSERT_TRUE(users_->Delete("bob").ok());
  ASSERT_TRUE(users_->Create(Bob()).ok());
  EXPECT_GT(users_->Get("bob")->id, old_id);
  EXPECT_EQ(users_->Get("bob")->login_generation, 1);
}

TEST_F(UserRepoTest, DeleteRemovesUserRolesTokensAndFailures) {
  ASSERT_TRUE(users_->Create(Bob()).ok());
  ASSERT_TRUE(users_->CountAuthAttempt("bob", 1, 900, 5).ok());
  TokenRepo tokens(db_.get());
  TokenRecord t;
  t.token_hash = std::string(64, 'a');
  t.user = "bob";
  t.expires_at = 1'800'000'000;
  ASSERT_TRUE(tokens.Insert(t).ok());

  ASSERT_TRUE(users_->Delete("bob").ok());
  EXPECT_TRUE(absl::IsNotFound(users_->Get("bob").status()));
  EXPECT_TRUE(absl::IsNotFound(tokens.Get(t.token_hash).status()));
  EXPECT_EQ(*users_->AuthAttemptsInWindow("bob", 1, 900), 0);
  RawDb raw(dir_.Join("p.db"));
  EXPECT_EQ(raw.QueryText("SELECT COUNT(*) FROM user_roles"), "0");
  EXPECT_TRUE(absl::IsNotFound(users_->Delete("bob")));

  // The name can be reused and starts clean.
  ASSERT_TRUE(users_->Create(Bob()).ok());
  EXPECT_EQ(users_->Get("bob")->totp_last_counter, -1);
}

// No error message from UserRepo may contain a password hash or seed, even
// when SQLite itself fails with a message that would.
TEST_F(UserRepoTest, ErrorMessagesNeverContainSecrets) {
  const std::string kHash = "$argon2id$v=19$m=65536,t=3,p=1$U0VDUkVUU0FMVA$U0VDUkVUSEFTSFZBTFVF";
  const std::string kSeed = "SEALED-SEED-MARKER-7f3a9c";
  UserRecord u = Bob();
  u.password_hash = kHash;
  u.totp_seed_sealed = kSeed;
  ASSERT_TRUE(users_->Create(u).ok());

  std::vector<absl::Status> errors;
  errors.push_back(users_->Create(u));  // duplicate
  errors.push_back(users_->SetPasswordHash("ghost", kHash));
  errors.push_back(users_->SetTotpSeed("ghost", kSeed).status());
  errors.push_back(users_->SetPasswordHash("bob", kHash + std::string(70000, 'x')));
  errors.push_back(users_->SetTotpSeed("bob", kSeed + std::string(70000, 'x')).status());
  errors.push_back(users_->ConsumeTotpCounter("bob", -5));
  errors.push_back(users_->Get("ghost").status());
  UserRecord big = u;
  big.name = "carol";
  big.password_hash = kHash + std::string(70000, 'y');
  errors.push_back(users_->Create(big));

  // Make SQLite itself fail with the secrets in its message.
  RawDb raw(dir_.Join("p.db"));
  ASSERT_EQ(raw.Exec("CREATE TRIGGER leak_update BEFORE UPDATE ON users BEGIN SELECT RAISE(ABORT, "
                     "'" + kHash + " " + kSeed + "'); END;"
                     "CREATE TRIGGER leak_insert BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, "
                     "'" + kHash + " " + kSeed + "'); END;"),
            "");
  errors.push_back(users_->SetPasswordHash("bob", kHash));
  errors.push_back(users_->SetTotpSeed("bob", kSeed).status());
  big.password_hash = kHash;
  big.totp_seed_sealed = kSeed;
  errors.push_back(users_->Create(big));

  for (const absl::Status& st : errors) {
    ASSERT_FALSE(st.ok());
    const std::string msg(st.message());
    EXPECT_EQ(msg.find(kHash), std::string::npos) << msg;
    EXPECT_EQ(msg.find("U0VDUkVU"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(kSeed), std::string::npos) << msg;
    EXPECT_EQ(msg.find("MARKER"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace portcullis::store
