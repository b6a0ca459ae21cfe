// The vault on the SSH path: a real sshd that takes only passwords, for a
// throwaway local account (LocalAccount, removed after), reached with a
// vaulted password; a wrong and a removed secret give the one-line refusal;
// a vaulted Ed25519 key to an authorized_keys sshd. (Dropbear, transfers,
// shells, pinning and faults: vault_targets_test.cc.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/integration/ssh_test_env.h"
#include "tests/integration/vault_env.h"
#include "tests/support/local_account.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccount[] = "pcvault1";
constexpr char kAccountPassword[] = "Vaulted-pw-4711-xq";

class VaultSshTest : public SshTest {};

TEST_F(VaultSshTest, PasswordOnlySshdWithAVaultedPassword) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: sshd checks local passwords, useradd";
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto account = LocalAccount::Create(kAccount, kAccountPassword);
  ASSERT_TRUE(account.ok()) << account.status();

  SshdOptions so;
  so.extra_config = {"PasswordAuthentication yes", "PubkeyAuthentication no"};
  SshdFixture pwd(so);
  ASSERT_TRUE(pwd.Start().ok());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("vault-ops", kAccount)));
  CommandResult t = AddTarget("sw-01", "127.0.0.1:" + std::to_string(pwd.port()),
                              {"--auth", "password", "--label", "site=plant-a"});
  ASSERT_EQ(t.exit_code, 0) << Describe(t);
  CommandResult set = Admin({"targets", "set-secret", "sw-01", "--login", kAccount,
                             "--password-stdin"},
                            kAccountPassword);
  ASSERT_EQ(set.exit_code, 0) << Describe(set);

  SshUser a = NewUser({"vault-ops"});
  CommandResult r = Ssh(a, a.name + ":sw-01", {"id -un; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r) << pwd.log();
  EXPECT_EQ(r.out, std::string(kAccount) + "\n");

  // A wrong secret: one line, an audit row with the reason.
  ASSERT_EQ(Admin({"targets", "set-secret", "sw-01", "--login", kAccount, "--password-stdin"},
                  "wrong-password-1")
                .exit_code,
            0);
  SshUser b = NewUser({"vault-ops"});
  CommandResult wrong = Ssh(b, b.name + ":sw-01", {"true"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.out + wrong.err,
              HasSubstr(std::string("portcullis: the broker could not log in to sw-01 as ") +
                        kAccount));
  auto failed = WaitForEvent("session.target_failed", [](const nlohmann::json& e) {
    return DetailIs(e, "reason", "target refused the vaulted password");
  });
  EXPECT_TRUE(failed.has_value()) << DumpEvents("session.");

  // Removed: "no secret vaulted for ...".
  ASSERT_EQ(Admin({"targets", "rm-secret", "sw-01", "--login", kAccount}).exit_code, 0);
  SshUser c = NewUser({"vault-ops"});
  CommandResult gone = Ssh(c, c.name + ":sw-01", {"true"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_THAT(gone.out + gone.err, HasSubstr("could not log in to sw-01"));
  auto missing = WaitForEvent("session.target_failed", [](const nlohmann::json& e) {
    return DetailIs(e, "reason", std::string("no secret vaulted for ") + kAccount);
  });
  EXPECT_TRUE(missing.has_value()) << DumpEvents("session.");
  EXPECT_THAT(broker().Log(), Not(HasSubstr(kAccountPassword)));
}

TEST_F(VaultSshTest, VaultedKeyToAnAuthorizedKeysSshd) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: sshd, useradd";
  // Its own account: ctest runs the vault tests in parallel.
  constexpr char kAccount[] = "pcvault2";
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto account = LocalAccount::Create(kAccount, kAccountPassword);
  ASSERT_TRUE(account.ok()) << account.status();
  const std::string key = broker().Join("rtu07_ed25519");
  auto pub = GenerateKeyPair(key, "ed25519");
  ASSERT_TRUE(pub.ok()) << pub.status();
  ASSERT_TRUE((*account)->AuthorizeKeys(*pub).ok());

  SshdOptions so;
  so.extra_config = {"AuthorizedKeysFile .ssh/authorized_keys"};
  SshdFixture keyd(so);
  ASSERT_TRUE(keyd.Start().ok());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("vault-ops", kAccount)));
  ASSERT_EQ(AddTarget("rtu-07", "127.0.0.1:" + std::to_string(keyd.port()),
                      {"--auth", "key", "--label", "site=plant-a"})
                .exit_code,
            0);
  CommandResult set =
      Admin({"targets", "set-secret", "rtu-07", "--login", kAccount, "--key-file", key});
  ASSERT_EQ(set.exit_code, 0) << Describe(set);
  SshUser a = NewUser({"vault-ops"});
  CommandResult r = Ssh(a, a.name + ":rtu-07", {"id -un; exit 4"});
  EXPECT_EQ(r.exit_code, 4) << Describe(r) << DumpEvents("session.target_failed") << keyd.log();
  EXPECT_EQ(r.out, std::string(kAccount) + "\n");
}

}  // namespace
}  // namespace portcullis::testing
