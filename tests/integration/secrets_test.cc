// Secrets never leak: after logins that succeed and fail, no password, TOTP
// secret or bearer token appears in the daemon's log (at trace level), in
// any CLI output other than the one-time enrolment, or in the audit log;
// and the database holds none of them in clear.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

constexpr char kSeededAdminPassword[] = "SEEDED-pw-1c9e-correct-horse";
constexpr char kSeededBobPassword[] = "SEEDED-bob-pw-5d2f-battery";
constexpr char kSeededTypo[] = "SEEDED-pw-1c9e-correct-hoRse";  // a near miss is a secret too

class SecretsTest : public BrokerTest {
 protected:
  // Keeps every output that must be free of secrets.
  CommandResult Keep(CommandResult r) {
    outputs_.push_back("stdout: " + r.out);
    outputs_.push_back("stderr: " + r.err);
    return r;
  }
  std::vector<std::string> outputs_;
};

std::string TokenIn(const std::string& home) {
  auto text = ReadWholeFile(home + "/login.json");
  if (!text.ok()) return "";
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() ? j.value("token", "") : "";
}

TEST_F(SecretsTest, NoSecretInLogsCliOutputAuditOrDatabase) {
  BrokerOptions opts;
  opts.admin_password = kSeededAdminPassword;
  opts.log_level = "trace";
  ASSERT_NO_FATAL_FAILURE(StartBroker(opts));
  const std::string admin_secret = broker().admin_totp_secret();
  outputs_.push_back("init stderr: " + broker().init_result().err);

  // Failures first (they must not consume the codes used below).
  Keep(broker().Login(broker().Home("x"), "alice", kSeededTypo, TotpCode(admin_secret, 0)));
  Keep(broker().Login(broker().Home("x"), "alice", kSeededAdminPassword,
                      WrongTotpCode(admin_secret)));
  Keep(broker().Login(broker().Home("x"), "nobody", kSeededAdminPassword,
                      TotpCode(admin_secret, 0)));
  const std::string admin_code = TotpCode(admin_secret, 0);
  CommandResult login = Keep(
      broker().Login(broker().AdminHome(), "alice", kSeededAdminPassword, admin_code));
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  Keep(broker().Login(broker().Home("x"), "alice", kSeededAdminPassword, admin_code));  // replay

  // Enrolment output is the one place the TOTP secret is shown on purpose.
  CommandResult add = Admin({"users", "add", "bob", "--password-stdin"},
                            std::string(kSeededBobPassword) + "\n");
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  outputs_.push_back("users add stderr: " + add.err);
  const std::string bob_secret = ExtractTotpSecret(add.out);
  ASSERT_FALSE(bob_secret.empty());
  CommandResult bob = Keep(broker().Login(broker().Home("bob"), "bob", kSeededBobPassword,
                                          TotpCode(bob_secret, 0)));
  ASSERT_EQ(bob.exit_code, 0) << Describe(bob);
  Keep(broker().Cli(broker().Home("bob"), {"users", "ls"}));  // refused: not admin
  Keep(broker().Cli(broker().Home("bob"), {"whoami"}));
  Keep(Admin({"users", "ls"}));
  Keep(Admin({"whoami"}));
  Keep(Admin({"users", "reset-totp", "nobody"}));
  CommandResult audit = Keep(Admin({"audit", "ls", "--json"}));
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  ASSERT_THAT(audit.out, ::testing::HasSubstr("auth.mfa_failure"));

  const std::string admin_token = TokenIn(broker().AdminHome());
  const std::string bob_token = TokenIn(broker().Home("bob"));
  ASSERT_FALSE(admin_token.empty());
  ASSERT_FALSE(bob_token.empty());
  struct Secret {
    const char* name;
    std::string value;
  };
  const std::vector<Secret> secrets = {
      {"admin password", kSeededAdminPassword},
      {"mistyped admin password", kSeededTypo},
      {"bob's password", kSeededBobPassword},
      {"admin TOTP secret", admin_secret},
      {"bob's TOTP secret", bob_secret},
      {"admin token", admin_token},
      {"bob's token", bob_token},
  };

  auto stop = broker().Stop();
  ASSERT_TRUE(stop.ok()) << stop;
  const std::string log = broker().Log();
  ASSERT_THAT(log, ::testing::HasSubstr("portcullisd ready"));
  for (const auto& s : secrets) {
    EXPECT_EQ(log.find(s.value), std::string::npos) << s.name << " in the daemon log";
    for (const auto& out : outputs_) {
      EXPECT_EQ(out.find(s.value), std::string::npos) << s.name << " in CLI output:\n" << out;
    }
  }

  // At rest: every file of the data directory (DB, WAL, anchor, keys).
  std::vector<Secret> at_rest = secrets;
  at_rest.push_back({"admin TOTP seed (raw)", Base32Decode(admin_secret)});
  at_rest.push_back({"bob's TOTP seed (raw)", Base32Decode(bob_secret)});
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(broker().data_dir())) {
    if (!e.is_regular_file()) continue;
    auto bytes = ReadWholeFile(e.path().string());
    ASSERT_TRUE(bytes.ok());
    ++files;
    for (const auto& s : at_rest) {
      ASSERT_GE(s.value.size(), 16u) << s.name;
      EXPECT_EQ(bytes->find(s.value), std::string::npos) << s.name << " in " << e.path();
    }
  }
  EXPECT_GE(files, 5);
}

}  // namespace
}  // namespace portcullis::testing
