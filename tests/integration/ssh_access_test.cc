// The SSH access path with the stock OpenSSH client: keyboard-interactive
// password + TOTP at the gate (prompt order, wrong code, no plain password
// method), exec with exit status and stdout/stderr kept apart, 10 MB out and
// 20 MB in byte-exact, an interactive shell on a terminal, and the target
// menu of `ssh USER@broker`.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SshAccessTest : public SshTest {};

TEST_F(SshAccessTest, ExecReturnsExitStatusWithStdoutAndStderrApart) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  CommandResult r =
      Ssh(u, u.name + ":rtu-01", {"echo out-1; echo err-1 >&2; echo out-2; whoami; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out, "out-1\nout-2\n" + login() + "\n") << Describe(r);
  EXPECT_EQ(r.err, "err-1\n") << Describe(r);

  // The decision, the certificate and the session are in the audit log.
  auto decision = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["subject"] == "rtu-01";
  });
  ASSERT_TRUE(decision.has_value()) << DumpEvents("policy.");
  EXPECT_EQ((*decision)["outcome"], "allowed");
  EXPECT_TRUE(DetailIs(*decision, "login", login())) << decision->dump();
  EXPECT_TRUE(DetailIs(*decision, "role", "ops")) << decision->dump();
  auto cert = WaitForEvent("ca.cert_issued", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["subject"] == "rtu-01";
  });
  ASSERT_TRUE(cert.has_value()) << DumpEvents("ca.");
  EXPECT_TRUE(DetailIs(*cert, "principal", login())) << cert->dump();
  auto end = WaitForEvent("session.end", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["subject"] == "rtu-01";
  });
  ASSERT_TRUE(end.has_value()) << DumpEvents("session.");
  EXPECT_TRUE(DetailIs(*end, "reason", "client-closed")) << end->dump();
}

TEST_F(SshAccessTest, ExecOutputOfTenMegabytesIsByteExact) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string data = PseudoRandomBytes(10'000'000, 7);
  const std::string path = broker().Join("ten-mb.bin");
  ASSERT_TRUE(WriteWholeFile(path, data).ok());
  SshUser u = NewUser();
  CommandResult r = Ssh(u, u.name + ":rtu-01", {"cat " + path});
  ASSERT_EQ(r.exit_code, 0) << "exit=" << r.exit_code << " stderr=" << r.err;
  EXPECT_EQ(r.out.size(), data.size());
  EXPECT_EQ(Sha256Hex(r.out), Sha256Hex(data));
  EXPECT_EQ(r.err, "");
  auto end =
      WaitForEvent("session.end", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ASSERT_TRUE(end.has_value()) << DumpEvents("session.");
  EXPECT_GE((*end)["details"]["bytes_down"].get<uint64_t>(), data.size()) << end->dump();
}

TEST_F(SshAccessTest, ExecStdinOfTwentyMegabytesLosesNoByteAtEof) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string data = PseudoRandomBytes(20'000'003, 11);  // not a multiple of any buffer
  SshUser u = NewUser();
  CommandResult r = Ssh(u, u.name + ":rtu-01", {"sha256sum; wc -c"}, data);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // wc sees nothing: sha256sum read everything up to EOF.
  EXPECT_EQ(r.out, Sha256Hex(data) + "  -\n0\n");
  auto end =
      WaitForEvent("session.end", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ASSERT_TRUE(end.has_value()) << DumpEvents("session.");
  EXPECT_EQ((*end)["details"]["bytes_up"].get<uint64_t>(), data.size()) << end->dump();
}

TEST_F(SshAccessTest, PromptsForPasswordThenVerificationCode) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  CommandResult r = Ssh(u, u.name + ":rtu-01", {"true"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // OpenSSH prefixes each prompt with "(USER@HOST) ".
  const std::string who = "(" + u.name + ":rtu-01@127.0.0.1) ";
  EXPECT_EQ(Prompts(u), who + "Password: \n" + who + "Verification code: \n");
  auto login_ev = WaitForEvent("auth.login", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["outcome"] == "success";
  });
  ASSERT_TRUE(login_ev.has_value()) << DumpEvents("auth.");
  EXPECT_TRUE(DetailIs(*login_ev, "channel", "ssh")) << login_ev->dump();
  EXPECT_TRUE(DetailIs(*login_ev, "mfa", "totp")) << login_ev->dump();
}

TEST_F(SshAccessTest, WrongVerificationCodeIsRefusedAndAudited) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser v = NewUser();
  CommandResult bad = RunCommand(SshArgv(v.name + ":rtu-01", {"echo should-not-run"}), "",
                                 std::chrono::seconds(60), AskpassEnv(v, WrongTotpCode(v.secret)));
  EXPECT_EQ(bad.exit_code, 255) << Describe(bad);
  EXPECT_EQ(bad.out, "");
  EXPECT_THAT(bad.err, HasSubstr("Permission denied")) << Describe(bad);
  auto fail = WaitForEvent("auth.mfa_failure",
                           [&](const nlohmann::json& e) { return e["actor"] == v.name; });
  ASSERT_TRUE(fail.has_value()) << DumpEvents("auth.");
  EXPECT_EQ((*fail)["outcome"], "failure");
  EXPECT_TRUE(DetailIs(*fail, "reason", "wrong verification code")) << fail->dump();
  EXPECT_TRUE(DetailIs(*fail, "channel", "ssh")) << fail->dump();
  // No session, no certificate for the refused user.
  for (const auto& e : AuditEvents("ca.cert_issued")) EXPECT_NE(e["actor"], v.name) << e.dump();
  for (const auto& e : AuditEvents("session.")) EXPECT_NE(e["actor"], v.name) << e.dump();
}

TEST_F(SshAccessTest, PlainPasswordMethodIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  // Given first, this -o wins over the keyboard-interactive default.
  CommandResult r = Ssh(u, u.name + ":rtu-01", {"echo should-not-run"}, "",
                        {"-o", "PreferredAuthentications=password"});
  EXPECT_EQ(r.exit_code, 255) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("Permission denied (publickey,keyboard-interactive)"))
      << Describe(r);
  EXPECT_EQ(Prompts(u), "") << "the client was never asked for anything";
  for (const auto& e : AuditEvents("auth.login")) {
    EXPECT_FALSE(e["actor"] == u.name && e["outcome"] == "success") << e.dump();
  }
}

TEST_F(SshAccessTest, InteractiveShellOnATerminal) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  auto ssh = SshOnPty(u, u.name + ":rtu-01", {});
  ASSERT_NE(ssh, nullptr);
  ASSERT_TRUE(ssh->Write("echo hi-$((6*7))\r"));
  // The typed line echoes as "hi-$((6*7))"; only the shell's output says 42.
  EXPECT_TRUE(ssh->ReadUntil("hi-42")) << ssh->output();
  ASSERT_TRUE(ssh->Write("tty; exit 5\r"));
  auto code = ssh->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << ssh->output();
  EXPECT_EQ(*code, 5) << ssh->output();
  EXPECT_THAT(ssh->output(), HasSubstr("/dev/pts/")) << "the target gave the shell a terminal";
}

TEST_F(SshAccessTest, MenuListsOnlyReachableTargetsAndOpensTheChosenOne) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  auto ssh = SshOnPty(u, u.name, {});
  ASSERT_NE(ssh, nullptr);
  const std::string menu = "Portcullis: targets " + u.name +
                           " may reach\r\n   1) rtu-01\r\n"
                           "Choose a target (number or name; q to quit): ";
  ASSERT_TRUE(ssh->ReadUntil(menu)) << ssh->output();
  EXPECT_THAT(ssh->output(), Not(HasSubstr("plc-09")));
  // A target that is not listed gets the same answer as one that does not
  // exist, and the menu asks again.
  ASSERT_TRUE(ssh->Write("plc-09\r"));
  EXPECT_TRUE(ssh->ReadUntil("portcullis: access to plc-09 denied by policy\r\n")) << ssh->output();
  EXPECT_TRUE(ssh->ReadUntil("Choose a target")) << ssh->output();
  // The choice and, typed ahead in the same keystrokes, a command for the
  // target's shell: nothing typed after the choice may be lost.
  ASSERT_TRUE(ssh->Write("1\recho menu-$((6*7))\r"));
  EXPECT_TRUE(ssh->ReadUntil("menu-42")) << ssh->output();
  ASSERT_TRUE(ssh->Write("exit 4\r"));
  auto code = ssh->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << ssh->output();
  EXPECT_EQ(*code, 4) << ssh->output();

  auto denied = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["subject"] == "plc-09";
  });
  ASSERT_TRUE(denied.has_value()) << DumpEvents("policy.");
  EXPECT_EQ((*denied)["outcome"], "denied");
  auto allowed = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["subject"] == "rtu-01";
  });
  ASSERT_TRUE(allowed.has_value()) << DumpEvents("policy.");
  EXPECT_EQ((*allowed)["outcome"], "allowed");
}

}  // namespace
}  // namespace portcullis::testing
