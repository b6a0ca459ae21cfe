// KeyService: who may manage whose keys, parsing, limits, audit.
#include <gtest/gtest.h>

#include "auth/ca/ed25519_key.h"
#include "tests/broker/api/api_harness.h"

namespace portcullis::testing {
namespace {

class KeyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.ok()) << h_.env().init_status();
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("bob"));
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("carol"));
    stub_ = v1::KeyService::NewStub(h_.channel());
  }
  grpc::Status Add(const std::string& token, const std::string& user, const std::string& line,
                   v1::AddKeyResponse* resp = nullptr) {
    v1::AddKeyRequest req;
    req.set_user(user);
    req.set_public_key(line);
    v1::AddKeyResponse local;
    return stub_->AddKey(ApiHarness::Ctx(token).get(), req, resp ? resp : &local);
  }
  grpc::Status List(const std::string& token, const std::string& user, v1::ListKeysResponse* resp) {
    v1::ListKeysRequest req;
    req.set_user(user);
    return stub_->ListKeys(ApiHarness::Ctx(token).get(), req, resp);
  }
  grpc::Status Remove(const std::string& token, const std::string& user, const std::string& fp) {
    v1::RemoveKeyRequest req;
    req.set_user(user);
    req.set_fingerprint(fp);
    v1::RemoveKeyResponse resp;
    return stub_->RemoveKey(ApiHarness::Ctx(token).get(), req, &resp);
  }

  ApiHarness h_;
  std::unique_ptr<v1::KeyService::Stub> stub_;
};

TEST_F(KeyServiceTest, UserAddsListsAndRemovesOwnKey) {
  const std::string bob = h_.Token("bob");
  ca::Ed25519Key key = ca::Ed25519Key::Generate();
  v1::AddKeyResponse added;
  grpc::Status st = Add(bob, "", key.AuthorizedKeyLine("bob@laptop") + "\n", &added);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(added.key().user(), "bob");
  EXPECT_EQ(added.key().fingerprint(), ca::Fingerprint(key.PublicBlob()));
  EXPECT_EQ(added.key().type(), "ssh-ed25519");
  EXPECT_EQ(added.key().comment(), "bob@laptop");
  EXPECT_EQ(added.key().public_key(), key.AuthorizedKeyLine("bob@laptop"));
  EXPECT_EQ(added.key().created_at().seconds(), h_.env().clock().NowUnix());
  EXPECT_TRUE(*h_.broker().keys().HasKey("bob", key.PublicBlob()));

  EXPECT_EQ(Add(bob, "bob", key.AuthorizedKeyLine("again")).error_code(),
            grpc::ALREADY_EXISTS);

  v1::ListKeysResponse listed;
  ASSERT_TRUE(List(bob, "", &listed).ok());
  ASSERT_EQ(listed.keys_size(), 1);
  EXPECT_EQ(listed.keys(0).fingerprint(), added.key().fingerprint());

  ASSERT_TRUE(Remove(bob, "", added.key().fingerprint()).ok());
  EXPECT_EQ(Remove(bob, "", added.key().fingerprint()).error_code(), grpc::NOT_FOUND);
  EXPECT_FALSE(*h_.broker().keys().HasKey("bob", key.PublicBlob()));

  auto adds = h_.Audit("key.add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].event.actor, "bob");
  EXPECT_EQ(adds[0].event.subject, "bob");
  EXPECT_EQ(adds[0].event.details["fingerprint"], added.key().fingerprint());
  EXPECT_EQ(adds[0].event.details["type"], "ssh-ed25519");
  auto removes = h_.Audit("key.remove");
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].event.details["fingerprint"], added.key().fingerprint());
}

TEST_F(KeyServiceTest, OtherUsersKeysNeedAdmin) {
  const std::string bob = h_.Token("bob");
  const std::string line = ca::Ed25519Key::Generate().AuthorizedKeyLine("x");
  EXPECT_EQ(Add(bob, "carol", line).error_code(), grpc::PERMISSION_DENIED);
  v1::ListKeysResponse listed;
  EXPECT_EQ(List(bob, "carol", &listed).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(Remove(bob, "carol", "SHA256:x").error_code(), grpc::PERMISSION_DENIED);
  // A non-admin cannot probe which users exist.
  EXPECT_EQ(List(bob, "nobody", &listed).error_code(), grpc::PERMISSION_DENIED);

  const std::string admin = h_.Token("alice");
  v1::AddKeyResponse added;
  ASSERT_TRUE(Add(admin, "carol", line, &added).ok());
  EXPECT_EQ(added.key().user(), "carol");
  ASSERT_TRUE(List(admin, "carol", &listed).ok());
  EXPECT_EQ(listed.keys_size(), 1);
  EXPECT_EQ(List(admin, "nobody", &listed).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(Add(admin, "nobody", line).error_code(), grpc::NOT_FOUND);
  auto adds = h_.Audit("key.add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].event.actor, "alice");
  EXPECT_EQ(adds[0].event.subject, "carol");
  ASSERT_TRUE(Remove(admin, "carol", added.key().fingerprint()).ok());
}

TEST_F(KeyServiceTest, BadKeysAreInvalidArgumentWithTheReason) {
  const std::string bob = h_.Token("bob");
  grpc::Status st = Add(bob, "", "ssh-dss AAAAB3NzaC1kc3MAAACBAN me");
  EXPECT_EQ(st.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "DSA (ssh-dss) keys are refused: they are insecure");
  EXPECT_EQ(Add(bob, "", "").error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(Add(bob, "", "ssh-ed25519 AAAA").error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(Remove(bob, "", "").error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_TRUE(h_.Audit("key.").empty());
}

TEST_F(KeyServiceTest, AtMost32KeysPerUser) {
  const std::string bob = h_.Token("bob");
  for (int i = 0; i < 32; ++i) {
    ASSERT_TRUE(Add(bob, "", ca::Ed25519Key::Generate().AuthorizedKeyLine("")).ok()) << i;
  }
  grpc::Status st = Add(bob, "", ca::Ed25519Key::Generate().AuthorizedKeyLine(""));
  EXPECT_EQ(st.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_EQ(st.error_message(), "bob already has 32 keys registered: remove one first");
  // The limit is per user.
  EXPECT_TRUE(Add(h_.Token("carol"), "", ca::Ed25519Key::Generate().AuthorizedKeyLine("")).ok());
}

TEST_F(KeyServiceTest, NoTokenNoKeys) {
  v1::ListKeysResponse listed;
  EXPECT_EQ(List("", "", &listed).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(Add("", "", ca::Ed25519Key::Generate().AuthorizedKeyLine("")).error_code(),
            grpc::UNAUTHENTICATED);
}

}  // namespace
}  // namespace portcullis::testing
