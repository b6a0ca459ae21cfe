// TargetRepo's vault rows (target_secrets, migration v5): set, replace,
// list without bytes, sealed getter, remove, cascade with the target, and
// the auth column.
#include <gtest/gtest.h>

#include "broker/common/clock.h"
#include "broker/store/target_repo.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

class TargetSecretRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    targets_ = std::make_unique<TargetRepo>(db_.get());
    TargetRecord t;
    t.name = "sw-01";
    t.address = "127.0.0.1:2200";
    t.protocol = "ssh";
    t.auth = "password";
    ASSERT_TRUE(targets_->Create(t).ok());
  }

  static TargetSecretRecord Row(std::string login, std::string sealed) {
    TargetSecretRecord r;
    r.info.target = "sw-01";
    r.info.login = std::move(login);
    r.info.kind = "password";
    r.info.set_by = "alice";
    r.sealed = std::move(sealed);
    return r;
  }

  testing::TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<TargetRepo> targets_;
};

TEST_F(TargetSecretRepoTest, AuthColumnRoundTripsAndDefaultsToCertificate) {
  auto got = targets_->Get("sw-01");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->auth, "password");
  TargetRecord plain;
  plain.name = "rtu-01";
  plain.address = "127.0.0.1:22";
  plain.protocol = "ssh";
  ASSERT_TRUE(targets_->Create(plain).ok());
  EXPECT_EQ(targets_->Get("rtu-01")->auth, "certificate");
  plain.auth = "token";
  plain.name = "rtu-02";
  EXPECT_EQ(targets_->Create(plain).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TargetSecretRepoTest, SetListGetReplaceRemove) {
  ASSERT_TRUE(targets_->SetSecret(Row("admin", std::string("\x01sealed\x00", 8))).ok());
  auto rows = targets_->ListSecretInfo("sw-01");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].login, "admin");
  EXPECT_EQ((*rows)[0].kind, "password");
  EXPECT_EQ((*rows)[0].set_by, "alice");
  EXPECT_EQ((*rows)[0].set_at, 1'700'000'000);
  auto sealed = targets_->GetSealedSecret("sw-01", "admin");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->sealed, std::string("\x01sealed\x00", 8));

  // Setting again replaces (one row per target and login).
  clock_.Advance(std::chrono::seconds(60));
  auto again = Row("admin", "\x01other");
  again.info.set_by = "carol";
  again.info.domain = "PLANT";
  ASSERT_TRUE(targets_->SetSecret(again).ok());
  rows = targets_->ListSecretInfo("sw-01");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].set_by, "carol");
  EXPECT_EQ((*rows)[0].domain, "PLANT");
  EXPECT_EQ((*rows)[0].set_at, 1'700'000'060);
  EXPECT_EQ(targets_->GetSealedSecret("sw-01", "admin")->sealed, "\x01other");

  ASSERT_TRUE(targets_->RemoveSecret("sw-01", "admin").ok());
  EXPECT_EQ(targets_->RemoveSecret("sw-01", "admin").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(targets_->GetSealedSecret("sw-01", "admin").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(targets_->ListSecretInfo("sw-01")->empty());
}

TEST_F(TargetSecretRepoTest, BadRowsAreRefused) {
  EXPECT_EQ(targets_->SetSecret(Row("admin", "")).code(), absl::StatusCode::kInvalidArgument);
  auto kind = Row("admin", "x");
  kind.info.kind = "token";
  EXPECT_EQ(targets_->SetSecret(kind).code(), absl::StatusCode::kInvalidArgument);
  auto nobody = Row("admin", "x");
  nobody.info.target = "nope";
  EXPECT_EQ(targets_->SetSecret(nobody).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(targets_->ListSecretInfo("sw-01")->empty());
}

TEST_F(TargetSecretRepoTest, SecretsGoWithTheirTarget) {
  ASSERT_TRUE(targets_->SetSecret(Row("admin", "x")).ok());
  ASSERT_TRUE(targets_->SetSecret(Row("", "y")).ok());  // a VNC-style secret without login
  EXPECT_EQ(targets_->ListSecretInfo("sw-01")->size(), 2u);
  ASSERT_TRUE(targets_->Delete("sw-01").ok());
  EXPECT_TRUE(targets_->ListSecretInfo("sw-01")->empty());
}

}  // namespace
}  // namespace portcullis::store
