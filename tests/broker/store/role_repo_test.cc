#include "broker/store/role_repo.h"

#include <gtest/gtest.h>

#include "broker/common/clock.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::store {
namespace {

class RoleRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    roles_ = std::make_unique<RoleRepo>(db_.get());
  }

  testing::TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RoleRepo> roles_;
};

TEST_F(RoleRepoTest, PutGetListDelete) {
  ASSERT_TRUE(roles_->PutAll({{"vendor-acme", "kind: role\nname: vendor-acme\n", 0},
                              {"admin", "kind: role\nname: admin\n", 42}})
                  .ok());
  auto acme = roles_->Get("vendor-acme");
  ASSERT_TRUE(acme.ok()) << acme.status();
  EXPECT_EQ(acme->yaml, "kind: role\nname: vendor-acme\n");
  EXPECT_EQ(acme->updated_at, 1'700'000'000);  // 0 = now
  EXPECT_EQ(roles_->Get("admin")->updated_at, 42);

  auto list = roles_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "admin");
  EXPECT_EQ((*list)[1].name, "vendor-acme");

  ASSERT_TRUE(roles_->Delete("admin").ok());
  EXPECT_TRUE(absl::IsNotFound(roles_->Get("admin").status()));
  EXPECT_TRUE(absl::IsNotFound(roles_->Delete("admin")));
  EXPECT_TRUE(absl::IsNotFound(roles_->Get("nope").status()));
}

TEST_F(RoleRepoTest, PutAllUpserts) {
  ASSERT_TRUE(roles_->PutAll({{"a", "v1", 0}}).ok());
  clock_.SetUnix(1'700'000'100);
  ASSERT_TRUE(roles_->PutAll({{"a", "v2", 0}}).ok());
  auto a = roles_->Get("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->yaml, "v2");
  EXPECT_EQ(a->updated_at, 1'700'000'100);
  EXPECT_EQ(roles_->List()->size(), 1u);
}

TEST_F(RoleRepoTest, PutAllIsAllOrNothing) {
  ASSERT_TRUE(roles_->PutAll({{"a", "a-v1", 0}, {"b", "b-v1", 0}}).ok());
  // The bad record comes after two good ones that were already written
  // inside the transaction.
  absl::Status st = roles_->PutAll({{"a", "a-v2", 0}, {"c", "c-v1", 0}, {"", "bad", 0}});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find("role #3"), std::string::npos) << st;
  EXPECT_EQ(roles_->Get("a")->yaml, "a-v1");
  EXPECT_EQ(roles_->Get("b")->yaml, "b-v1");
  EXPECT_TRUE(absl::IsNotFound(roles_->Get("c").status()));
  EXPECT_EQ(roles_->List()->size(), 2u);
}

TEST_F(RoleRepoTest, PutAllFailureInsideSqliteAlsoRollsBack) {
  ASSERT_TRUE(roles_->PutAll({{"a", "a-v1", 0}}).ok());
  testing::RawDb raw(dir_.Join("p.db"));
  ASSERT_EQ(raw.Exec("CREATE TRIGGER no_z BEFORE INSERT ON roles WHEN NEW.name = 'z' "
                     "BEGIN SELECT RAISE(ABORT, 'no z'); END;"),
            "");
  absl::Status st = roles_->PutAll({{"a", "a-v2", 0}, {"z", "z", 0}});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(roles_->Get("a")->yaml, "a-v1");
}

}  // namespace
}  // namespace portcullis::store
