#include "broker/store/target_repo.h"

#include <gtest/gtest.h>

#include "broker/common/clock.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

class TargetRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    targets_ = std::make_unique<TargetRepo>(db_.get());
  }

  static TargetRecord Plc() {
    TargetRecord t;
    t.name = "plc-1";
    t.address = "10.20.0.5:22";
    t.protocol = "ssh";
    t.labels = {{"site", "plant-a"}, {"vendor", "acme"}, {"zone", "cell-3 \xc3\xa9"}};
    t.vaulted_secret_sealed = std::string("\x00\x01\x02secret", 9);
    return t;
  }

  testing::TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<TargetRepo> targets_;
};

TEST_F(TargetRepoTest, CreateGetRoundTrip) {
  ASSERT_TRUE(targets_->Create(Plc()).ok());
  auto got = targets_->Get("plc-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->address, "10.20.0.5:22");
  EXPECT_EQ(got->protocol, "ssh");
  EXPECT_EQ(got->labels, Plc().labels);
  EXPECT_EQ(got->host_key, "");
  EXPECT_EQ(got->crypto_profile, "modern");
  EXPECT_EQ(got->vaulted_secret_sealed, Plc().vaulted_secret_sealed);
  EXPECT_EQ(got->created_at, 1'700'000'000);
}

TEST_F(TargetRepoTest, AlreadyExistsAndNotFound) {
  ASSERT_TRUE(targets_->Create(Plc()).ok());
  absl::Status dup = targets_->Create(Plc());
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(std::string(dup.message()), "target plc-1 already exists");
  EXPECT_TRUE(absl::IsNotFound(targets_->Get("hmi").status()));
  TargetRecord other = Plc();
  other.name = "hmi";
  EXPECT_TRUE(absl::IsNotFound(targets_->Update(other)));
  EXPECT_TRUE(absl::IsNotFound(targets_->Delete("hmi")));
  EXPECT_TRUE(absl::IsNotFound(targets_->PinHostKey("hmi", "ssh-ed25519 AAAA")));
}

TEST_F(TargetRepoTest, RejectsInvalidRecords) {
  TargetRecord t = Plc();
  t.protocol = "telnet";
  EXPECT_EQ(targets_->Create(t).code(), absl::StatusCode::kInvalidArgument);
  t = Plc();
  t.address = "";
  EXPECT_EQ(targets_->Create(t).code(), absl::StatusCode::kInvalidArgument);
  t = Plc();
  t.labels["bad"] = "\xff\xfe";
  EXPECT_EQ(targets_->Create(t).code(), absl::StatusCode::kInvalidArgument);
  t = Plc();
  t.name = "";
  EXPECT_EQ(targets_->Create(t).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(targets_->List()->empty());
}

TEST_F(TargetRepoTest, UpdateKeepsCreatedAt) {
  ASSERT_TRUE(targets_->Create(Plc()).ok());
  TargetRecord t = Plc();
  t.address = "10.20.0.6:3389";
  t.protocol = "rdp";
  t.labels = {{"site", "plant-b"}};
  t.crypto_profile = "legacy";
  t.created_at = 5;
  ASSERT_TRUE(targets_->Update(t).ok());
  auto got = targets_->Get("plc-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->address, "10.20.0.6:3389");
  EXPECT_EQ(got->protocol, "rdp");
  EXPECT_EQ(got->labels, t.labels);
  EXPECT_EQ(got->crypto_profile, "legacy");
  EXPECT_EQ(got->created_at, 1'700'000'000);
}

TEST_F(TargetRepoTest, ListAndDelete) {
  TargetRecord b = Plc();
  b.name = "b";
  TargetRecord a = Plc();
  a.name = "a";
  a.protocol = "vnc";
  ASSERT_TRUE(targets_->Create(b).ok());
  ASSERT_TRUE(targets_->Create(a).ok());
  auto list = targets_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a");
  EXPECT_EQ((*list)[0].protocol, "vnc");
  EXPECT_EQ((*list)[1].name, "b");
  ASSERT_TRUE(targets_->Delete("a").ok());
  EXPECT_EQ(targets_->List()->size(), 1u);
}

TEST_F(TargetRepoTest, PinHostKeyTrustsOnFirstUseOnly) {
  ASSERT_TRUE(targets_->Create(Plc()).ok());
  ASSERT_TRUE(targets_->PinHostKey("plc-1", "ssh-ed25519 AAAAfirst").ok());
  EXPECT_TRUE(targets_->PinHostKey("plc-1", "ssh-ed25519 AAAAfirst").ok());
  EXPECT_EQ(targets_->PinHostKey("plc-1", "ssh-ed25519 AAAAevil").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(targets_->Get("plc-1")->host_key, "ssh-ed25519 AAAAfirst");
  EXPECT_EQ(targets_->PinHostKey("plc-1", "").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TargetRepoTest, CorruptStoredLabelsAreDataLoss) {
  ASSERT_TRUE(targets_->Create(Plc()).ok());
  testing::RawDb raw(dir_.Join("p.db"));
  ASSERT_EQ(raw.Exec("UPDATE targets SET labels = '[1,2'"), "");
  EXPECT_EQ(targets_->Get("plc-1").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace portcullis::store
