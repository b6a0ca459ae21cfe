// The credential vault: sealing through SetTargetSecret, opening only
// through the Authority, binding of a sealed row to its target, login and
// kind, and the refusals (certificate targets, wrong kinds, bad secrets).
#include "broker/core/target_vault.h"

#include <gtest/gtest.h>

#include "tests/broker/core/broker_test_env.h"

namespace portcullis::testing {
namespace {

class TargetVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok()) << env_.init_status();
    for (auto [name, auth] : {std::pair{"sw-01", "password"}, std::pair{"sw-02", "password"},
                              std::pair{"rtu-07", "key"}, std::pair{"rtu-01", "certificate"}}) {
      store::TargetRecord t;
      t.name = name;
      t.address = "127.0.0.1:22";
      t.protocol = "ssh";
      t.auth = auth;
      ASSERT_TRUE(env_.broker().targets().Create(t).ok());
    }
  }

  absl::Status Set(const std::string& target, const std::string& login, core::SecretKind kind,
                   std::string_view secret) {
    core::SetTargetSecretRequest req;
    req.target = target;
    req.login = login;
    req.kind = kind;
    req.set_by = "alice";
    req.now = env_.clock().NowUnix();
    auto s = SecretBytes::FromString(secret);
    if (!s.ok()) return s.status();
    return core::SetTargetSecret(env_.broker().targets(), env_.broker().secret_box(), req, *s);
  }

  // An unencrypted (or, with a passphrase, encrypted) private key of `type`.
  std::string KeyText(const std::string& type, const std::string& passphrase = "",
                      const std::vector<std::string>& extra = {}) {
    const std::string path = dir_.Join("key-" + type + std::to_string(n_++));
    std::vector<std::string> argv = {"ssh-keygen", "-q", "-t", type, "-N", passphrase, "-f", path};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto text = ReadWholeFile(path);
    return text.ok() ? *text : "";
  }

  BrokerEnv env_;
  TempDir dir_{"pc-vault"};
  int n_ = 0;
};

TEST_F(TargetVaultTest, PasswordRoundTripThroughTheAuthority) {
  ASSERT_TRUE(Set("sw-01", "admin", core::SecretKind::kPassword, "S3cret-on-the-switch").ok());
  auto v = env_.broker().authority().OpenTargetSecret("sw-01", "admin");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->kind, core::SecretKind::kPassword);
  EXPECT_EQ(v->secret.Reveal(), "S3cret-on-the-switch");
  // Sealed at rest: the stored bytes do not hold the password.
  auto row = env_.broker().targets().GetSealedSecret("sw-01", "admin");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->sealed.find("S3cret"), std::string::npos);
  EXPECT_EQ(row->info.set_by, "alice");
}

TEST_F(TargetVaultTest, KeysOfEachTypeRoundTrip) {
  for (const std::string type : {"ed25519", "ecdsa", "rsa"}) {
    const std::string key = KeyText(type);
    ASSERT_TRUE(Set("rtu-07", "maint", core::SecretKind::kKey, key).ok()) << type;
    auto v = env_.broker().authority().OpenTargetSecret("rtu-07", "maint");
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->kind, core::SecretKind::kKey);
    EXPECT_EQ(v->secret.Reveal(), key);
  }
  // A PEM (PKCS#8) key, as ssh-keygen -m PKCS8 writes it.
  EXPECT_TRUE(Set("rtu-07", "maint", core::SecretKind::kKey,
                  KeyText("ecdsa", "", {"-m", "PKCS8"}))
                  .ok());
}

TEST_F(TargetVaultTest, ARowMovedToAnotherTargetLoginOrKindDoesNotOpen) {
  ASSERT_TRUE(Set("sw-01", "admin", core::SecretKind::kPassword, "S3cret").ok());
  auto row = env_.broker().targets().GetSealedSecret("sw-01", "admin");
  ASSERT_TRUE(row.ok());
  store::TargetSecretRecord moved = *row;
  moved.info.target = "sw-02";
  ASSERT_TRUE(env_.broker().targets().SetSecret(moved).ok());
  EXPECT_EQ(env_.broker().authority().OpenTargetSecret("sw-02", "admin").status().code(),
            absl::StatusCode::kDataLoss);
  moved = *row;
  moved.info.login = "root";
  ASSERT_TRUE(env_.broker().targets().SetSecret(moved).ok());
  EXPECT_EQ(env_.broker().authority().OpenTargetSecret("sw-01", "root").status().code(),
            absl::StatusCode::kDataLoss);
  moved = *row;
  moved.info.kind = "key";
  ASSERT_TRUE(env_.broker().targets().SetSecret(moved).ok());
  auto reopened = env_.broker().authority().OpenTargetSecret("sw-01", "admin");
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::string(reopened.status().message()).find("S3cret"), std::string::npos);
}

TEST_F(TargetVaultTest, MissingSecretIsNotFound) {
  auto v = env_.broker().authority().OpenTargetSecret("sw-01", "admin");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(v.status().message(), "no secret vaulted for admin");
}

TEST_F(TargetVaultTest, RefusalsStoreNothing) {
  auto cert = Set("rtu-01", "root", core::SecretKind::kPassword, "pw");
  EXPECT_EQ(cert.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(cert.message().find("uses certificates"), std::string::npos) << cert;
  EXPECT_EQ(Set("nope", "root", core::SecretKind::kPassword, "pw").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Set("sw-01", "admin", core::SecretKind::kKey, KeyText("ed25519")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Set("rtu-07", "maint", core::SecretKind::kPassword, "pw").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Set("sw-01", "admin", core::SecretKind::kPassword, "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set("sw-01", "admin", core::SecretKind::kPassword, std::string("a\0b", 3)).code(),
            absl::StatusCode::kInvalidArgument);
  auto encrypted = Set("rtu-07", "maint", core::SecretKind::kKey, KeyText("ed25519", "pass-phrase"));
  EXPECT_EQ(encrypted.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(encrypted.message().find("encrypted"), std::string::npos) << encrypted;
  auto encrypted_pem = Set("rtu-07", "maint", core::SecretKind::kKey,
                           KeyText("rsa", "pass-phrase", {"-m", "PEM"}));
  EXPECT_NE(encrypted_pem.message().find("encrypted"), std::string::npos) << encrypted_pem;
  // A public key, junk, and an oversized "key" are not private keys.
  EXPECT_EQ(Set("rtu-07", "maint", core::SecretKind::kKey, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA")
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set("rtu-07", "maint", core::SecretKind::kKey, "not a key at all\n").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Set("rtu-07", "maint", core::SecretKind::kKey,
                   std::string(SecretBytes::kMaxSize + 1, 'k'))
                   .ok());
  EXPECT_TRUE(env_.broker().targets().ListSecretInfo("sw-01")->empty());
  EXPECT_TRUE(env_.broker().targets().ListSecretInfo("rtu-07")->empty());
  EXPECT_TRUE(env_.broker().targets().ListSecretInfo("rtu-01")->empty());
}

TEST_F(TargetVaultTest, AadNamesTargetLoginAndKind) {
  EXPECT_NE(core::TargetSecretAad("a", "bc", core::SecretKind::kPassword),
            core::TargetSecretAad("ab", "c", core::SecretKind::kPassword));
  EXPECT_NE(core::TargetSecretAad("a", "b", core::SecretKind::kPassword),
            core::TargetSecretAad("a", "b", core::SecretKind::kKey));
}

}  // namespace
}  // namespace portcullis::testing
