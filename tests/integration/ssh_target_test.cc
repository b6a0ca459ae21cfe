// The broker -> target leg: host keys are trusted on first use (audited) or
// pinned at `targets add --host-key`, and a key that differs refuses the
// session with a clear line and an audit row; the per-target crypto profile
// reaches an sshd restricted to legacy algorithms only with --crypto legacy,
// and `targets ls --weak-crypto` lists such targets.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include <fmt/format.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// "TYPE BASE64" of a public key line ("TYPE BASE64 comment\n").
std::string KeyOf(const std::string& line) {
  std::istringstream in(line);
  std::string type, blob;
  in >> type >> blob;
  return type + " " + blob;
}

class SshTargetTest : public SshTest {
 protected:
  std::string TargetAddress(const SshdFixture& sshd) {
    return fmt::format("127.0.0.1:{}", sshd.port());
  }
  int CountEvents(const std::string& type, const std::string& subject) {
    int n = 0;
    for (const auto& e : AuditEvents(type)) n += e["subject"] == subject ? 1 : 0;
    return n;
  }
};

TEST_F(SshTargetTest, FirstUsePinsTheHostKeyAndAChangedKeyIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string first_key = KeyOf(target().host_key_pub());
  SshUser a = NewUser();
  CommandResult r = Ssh(a, a.name + ":rtu-01", {"echo first"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "first\n");
  auto pinned = WaitForEvent("target.host_key_pinned",
                             [](const nlohmann::json& e) { return e["subject"] == "rtu-01"; });
  ASSERT_TRUE(pinned.has_value()) << DumpEvents("target.");
  EXPECT_TRUE(DetailIs(*pinned, "host_key", first_key)) << pinned->dump();
  EXPECT_TRUE(DetailIs(*pinned, "how", "trust on first use")) << pinned->dump();
  CommandResult show = Admin({"targets", "show", "rtu-01"});
  EXPECT_THAT(show.out, HasSubstr("host key: " + first_key + "\n")) << Describe(show);

  // The same key again: no second pinning.
  SshUser b = NewUser();
  CommandResult again = Ssh(b, b.name + ":rtu-01", {"echo again"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(CountEvents("target.host_key_pinned", "rtu-01"), 1);

  // The target comes back on the same port with a new host key.
  const int port = target().port();
  target().Stop();
  SshdOptions so;
  so.trusted_user_ca_keys = ca_line();
  so.port = port;
  so.extra_config = {"Subsystem sftp internal-sftp"};
  target_ = std::make_unique<SshdFixture>(so);
  auto st = target_->Start();
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_NE(KeyOf(target().host_key_pub()), first_key);

  SshUser c = NewUser();
  CommandResult refused = Ssh(c, c.name + ":rtu-01", {"echo should-not-run"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_EQ(refused.out, "");
  EXPECT_THAT(refused.err, StartsWith("portcullis: host key of rtu-01 changed"))
      << Describe(refused);
  auto mismatch = WaitForEvent("target.host_key_mismatch", [&](const nlohmann::json& e) {
    return e["actor"] == c.name && e["subject"] == "rtu-01";
  });
  ASSERT_TRUE(mismatch.has_value()) << DumpEvents("target.");
  EXPECT_EQ((*mismatch)["outcome"], "failure");
  // The pin is unchanged and no certificate was issued for the new key.
  CommandResult show2 = Admin({"targets", "show", "rtu-01"});
  EXPECT_THAT(show2.out, HasSubstr("host key: " + first_key + "\n")) << Describe(show2);
  for (const auto& e : AuditEvents("ca.cert_issued")) EXPECT_NE(e["actor"], c.name) << e.dump();
}

TEST_F(SshTargetTest, HostKeyGivenAtAddIsTrustedWithoutFirstUseAndAWrongOneRefused) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string address = TargetAddress(target());
  const std::string right_key = KeyOf(target().host_key_pub());
  TempDir keys("pc-other-key");
  CommandResult kg =
      RunCommand({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keys.Join("other")});
  ASSERT_EQ(kg.exit_code, 0) << Describe(kg);
  auto other_pub = ReadWholeFile(keys.Join("other.pub"));
  ASSERT_TRUE(other_pub.ok());
  const std::string wrong_key = KeyOf(*other_pub);

  CommandResult add1 =
      AddTarget("rtu-pinned", address, {"--label", "site=plant-a", "--host-key", right_key});
  ASSERT_EQ(add1.exit_code, 0) << Describe(add1);
  CommandResult add2 =
      AddTarget("rtu-wrong", address, {"--label", "site=plant-a", "--host-key", wrong_key});
  ASSERT_EQ(add2.exit_code, 0) << Describe(add2);

  SshUser a = NewUser();
  CommandResult ok = Ssh(a, a.name + ":rtu-pinned", {"echo pinned-ok"});
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(ok.out, "pinned-ok\n");

  SshUser b = NewUser();
  CommandResult refused = Ssh(b, b.name + ":rtu-wrong", {"echo should-not-run"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_EQ(refused.out, "");
  EXPECT_THAT(refused.err, StartsWith("portcullis: host key of rtu-wrong changed"))
      << Describe(refused);
  auto mismatch = WaitForEvent("target.host_key_mismatch", [&](const nlohmann::json& e) {
    return e["subject"] == "rtu-wrong";
  });
  ASSERT_TRUE(mismatch.has_value()) << DumpEvents("target.");

  EXPECT_EQ(CountEvents("target.host_key_pinned", "rtu-pinned"), 0) << DumpEvents("target.");
  EXPECT_EQ(CountEvents("target.host_key_pinned", "rtu-wrong"), 0) << DumpEvents("target.");
}

TEST_F(SshTargetTest, LegacyProfileReachesAnSshdRestrictedToLegacyAlgorithms) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshdOptions so;
  so.trusted_user_ca_keys = ca_line();
  so.host_key_type = "rsa";
  so.extra_config = {"KexAlgorithms diffie-hellman-group14-sha1", "HostKeyAlgorithms ssh-rsa",
                     "Ciphers aes128-ctr", "MACs hmac-sha1"};
  SshdFixture old(so);
  auto st = old.Start();
  ASSERT_TRUE(st.ok()) << st;
  // The sshd really offers nothing modern: a stock client with its defaults
  // cannot even agree on a key exchange.
  CommandResult direct = RunCommand(
      {"ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
       "UserKnownHostsFile=/dev/null", "-p", std::to_string(old.port()), "127.0.0.1", "true"});
  EXPECT_EQ(direct.exit_code, 255);
  EXPECT_THAT(direct.err, HasSubstr("no matching key exchange method found")) << Describe(direct);

  const std::string address = TargetAddress(old);
  CommandResult add1 = AddTarget("rtu-old-modern", address, {"--label", "site=plant-a"});
  ASSERT_EQ(add1.exit_code, 0) << Describe(add1);
  CommandResult add2 =
      AddTarget("rtu-old", address, {"--label", "site=plant-a", "--crypto", "legacy"});
  ASSERT_EQ(add2.exit_code, 0) << Describe(add2);

  SshUser a = NewUser();
  CommandResult modern = Ssh(a, a.name + ":rtu-old-modern", {"echo should-not-run"});
  EXPECT_EQ(modern.exit_code, 1) << Describe(modern);
  EXPECT_EQ(modern.out, "");
  // The line says why: no key exchange in common.
  EXPECT_THAT(modern.err, HasSubstr("no match for method kex algos")) << Describe(modern);
  EXPECT_THAT(modern.err, StartsWith("portcullis: cannot reach rtu-old-modern"))
      << Describe(modern);
  auto failed = WaitForEvent("session.target_failed", [](const nlohmann::json& e) {
    return e["subject"] == "rtu-old-modern";
  });
  ASSERT_TRUE(failed.has_value()) << DumpEvents("session.");

  SshUser b = NewUser();
  CommandResult legacy = Ssh(b, b.name + ":rtu-old", {"echo legacy-ok; exit 2"});
  EXPECT_EQ(legacy.exit_code, 2) << Describe(legacy) << "\nold sshd log:\n" << old.log();
  EXPECT_EQ(legacy.out, "legacy-ok\n");
  auto pinned = WaitForEvent("target.host_key_pinned",
                             [](const nlohmann::json& e) { return e["subject"] == "rtu-old"; });
  ASSERT_TRUE(pinned.has_value()) << DumpEvents("target.");
  EXPECT_TRUE(DetailIs(*pinned, "host_key", KeyOf(old.host_key_pub()))) << pinned->dump();
  EXPECT_THAT(old.log(), HasSubstr("Accepted publickey for " + login()));

  CommandResult weak = Admin({"targets", "ls", "--weak-crypto"});
  ASSERT_EQ(weak.exit_code, 0) << Describe(weak);
  EXPECT_THAT(weak.out, HasSubstr("\nrtu-old ")) << weak.out;
  EXPECT_THAT(weak.out, ::testing::Not(HasSubstr("rtu-old-modern"))) << weak.out;
  EXPECT_THAT(weak.out, ::testing::Not(HasSubstr("rtu-01"))) << weak.out;
  old.Stop();
}

}  // namespace
}  // namespace portcullis::testing
