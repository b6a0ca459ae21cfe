// `targets set-secret / rm-secret / show` through the real CLI and daemon:
// the happy path, every bad input (nothing stored), and the audit rows,
// which never hold the secret.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "S3cret-on-the-switch-9q";

class VaultCliTest : public BrokerTest {};

TEST_F(VaultCliTest, SetShowRemoveAndBadInputs) {
  StartBrokerAndLoginAdmin();
  ASSERT_EQ(Admin({"targets", "add", "sw-01", "--address", "127.0.0.1:2200", "--protocol", "ssh",
                   "--auth", "password", "--label", "site=plant-a"})
                .exit_code,
            0);
  ASSERT_EQ(Admin({"targets", "add", "rtu-01", "--address", "127.0.0.1:2201", "--protocol",
                   "ssh"})
                .exit_code,
            0);
  CommandResult set = Admin({"targets", "set-secret", "sw-01", "--login", "admin",
                             "--password-stdin"},
                            kPassword);
  ASSERT_EQ(set.exit_code, 0) << Describe(set);
  EXPECT_THAT(set.out + set.err, Not(HasSubstr(kPassword)));
  CommandResult show = Admin({"targets", "show", "sw-01"});
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  EXPECT_THAT(show.out, HasSubstr("auth:     password"));
  EXPECT_THAT(show.out, HasSubstr("secret for admin: set "));
  EXPECT_THAT(show.out, HasSubstr(" by alice"));
  EXPECT_THAT(show.out, Not(HasSubstr(kPassword)));

  // Bad inputs: a clear error each, nothing stored.
  const std::string empty = broker().Join("empty");
  ASSERT_TRUE(WriteWholeFile(empty, "", 0600).ok());
  const std::string big = broker().Join("big");
  ASSERT_TRUE(WriteWholeFile(big, std::string(16 * 1024 + 1, 'k'), 0600).ok());
  const std::string junk = broker().Join("junk");
  ASSERT_TRUE(WriteWholeFile(junk, "not a key\n", 0600).ok());
  struct Bad {
    std::vector<std::string> args;
    std::string stdin_data;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {{"targets", "set-secret", "sw-01", "--login", "root", "--password-stdin"}, "", "empty"},
      {{"targets", "set-secret", "rtu-01", "--login", "root", "--password-stdin"}, "pw",
       "uses certificates"},
      {{"targets", "set-secret", "nope", "--login", "root", "--password-stdin"}, "pw",
       "no target"},
      {{"targets", "set-secret", "sw-01", "--login", "root", "--key-file", empty}, "", "empty"},
      {{"targets", "set-secret", "sw-01", "--login", "root", "--key-file", big}, "", "larger"},
      {{"targets", "set-secret", "sw-01", "--login", "root", "--key-file",
        broker().Join("missing")},
       "", "cannot read"},
      {{"targets", "set-secret", "sw-01", "--login", "root"}, "", "--password-stdin"},
  };
  for (const auto& b : bad) {
    CommandResult r = Admin(b.args, b.stdin_data);
    EXPECT_NE(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out + r.err, HasSubstr(b.says)) << Describe(r);
  }
  show = Admin({"targets", "show", "sw-01"});
  EXPECT_THAT(show.out, Not(HasSubstr("secret for root")));

  // A key target refuses what is not an unencrypted private key, storing
  // nothing: a key with a passphrase (OpenSSH and PEM), a public key, junk.
  ASSERT_EQ(Admin({"targets", "add", "rtu-07", "--address", "127.0.0.1:2202", "--protocol", "ssh",
                   "--auth", "key", "--label", "site=plant-a"})
                .exit_code,
            0);
  const std::string encrypted = broker().Join("encrypted_ed25519");
  const std::string encrypted_pem = broker().Join("encrypted_rsa.pem");
  ASSERT_EQ(RunCommand({"ssh-keygen", "-q", "-t", "ed25519", "-N", "pass-phrase-1", "-f",
                        encrypted})
                .exit_code,
            0);
  ASSERT_EQ(RunCommand({"ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N",
                        "pass-phrase-2", "-f", encrypted_pem})
                .exit_code,
            0);
  const std::vector<std::pair<std::string, std::string>> bad_keys = {
      {encrypted, "the key is encrypted"},
      {encrypted_pem, "the key is encrypted"},
      {encrypted + ".pub", "not a private key"},
      {junk, "not a private key"},
  };
  for (const auto& [file, says] : bad_keys) {
    CommandResult r = Admin({"targets", "set-secret", "rtu-07", "--login", "maint", "--key-file",
                             file});
    EXPECT_NE(r.exit_code, 0) << file << "\n" << Describe(r);
    EXPECT_THAT(r.out + r.err, HasSubstr(says)) << file << "\n" << Describe(r);
  }
  show = Admin({"targets", "show", "rtu-07"});
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  EXPECT_THAT(show.out, Not(HasSubstr("secret for"))) << Describe(show);

  CommandResult rm = Admin({"targets", "rm-secret", "sw-01", "--login", "admin"});
  ASSERT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_NE(Admin({"targets", "rm-secret", "sw-01", "--login", "admin"}).exit_code, 0);
  show = Admin({"targets", "show", "sw-01"});
  EXPECT_THAT(show.out, Not(HasSubstr("secret for admin")));

  CommandResult audit = Admin({"audit", "ls", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  EXPECT_THAT(audit.out, HasSubstr("target.secret_set"));
  EXPECT_THAT(audit.out, HasSubstr("target.secret_removed"));
  EXPECT_THAT(audit.out, Not(HasSubstr(kPassword)));
  EXPECT_THAT(broker().Log(), Not(HasSubstr(kPassword)));
}

}  // namespace
}  // namespace portcullis::testing
