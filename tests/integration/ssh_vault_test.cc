// The vault on the SSH path: a real sshd that takes only passwords, for a
// throwaway local account (useradd/chpasswd, removed after), reached with a
// vaulted password; a wrong and a removed secret give the one-line refusal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccount[] = "pcvault1";
constexpr char kAccountPassword[] = "Vaulted-pw-4711-xq";

class VaultSshTest : public SshTest {
 protected:
  void TearDown() override {
    if (!account_.empty()) RunCommand({"userdel", "-r", account_});
    SshTest::TearDown();
  }
  std::string account_;  // the throwaway local account this test created
};

TEST_F(VaultSshTest, PasswordOnlySshdWithAVaultedPassword) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: sshd checks local passwords, useradd";
  ASSERT_NO_FATAL_FAILURE(StartAll());
  RunCommand({"userdel", "-r", kAccount});
  CommandResult add = RunCommand({"useradd", "-m", "-s", "/bin/sh", kAccount});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  account_ = kAccount;
  CommandResult pw = RunCommand({"chpasswd"}, std::string(kAccount) + ":" + kAccountPassword + "\n");
  ASSERT_EQ(pw.exit_code, 0) << Describe(pw);

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
  RunCommand({"userdel", "-r", kAccount});
  ASSERT_EQ(RunCommand({"useradd", "-m", "-s", "/bin/sh", kAccount}).exit_code, 0);
  account_ = kAccount;
  // sshd refuses a locked account ("!" password) even for keys.
  ASSERT_EQ(RunCommand({"chpasswd"}, std::string(kAccount) + ":" + kAccountPassword + "\n")
                .exit_code,
            0);
  const std::string home = std::string("/home/") + kAccount;
  const std::string key = broker().Join("rtu07_ed25519");
  ASSERT_EQ(RunCommand({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key}).exit_code, 0);
  ASSERT_EQ(RunCommand({"mkdir", "-p", home + "/.ssh"}).exit_code, 0);
  auto pub = ReadWholeFile(key + ".pub");
  ASSERT_TRUE(pub.ok());
  ASSERT_TRUE(WriteWholeFile(home + "/.ssh/authorized_keys", *pub, 0600).ok());
  ASSERT_EQ(RunCommand({"chown", "-R", std::string(kAccount) + ":", home + "/.ssh"}).exit_code, 0);

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
