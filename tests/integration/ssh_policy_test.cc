// Every policy denial on the SSH path, seen by a stock OpenSSH client: one
// line on the user's terminal saying "denied by policy" (the same line for a
// target the user may not see and one that does not exist), exit status 1,
// and a policy.decision row with the reason. Also tunnels (ssh -L): only the
// role's destinations, each tunnel audited with its bytes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// `err` as one line: the trailing "\n" / "\r\n" removed; "" plus a failure
// if there is more than one line.
std::string OneLine(const std::string& err) {
  std::string s = err;
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  EXPECT_EQ(s.find('\n'), std::string::npos) << "more than one line: " << err;
  return s;
}

class SshPolicyTest : public SshTest {
 protected:
  // The policy.decision row of `user` about `subject` (fatal if missing).
  nlohmann::json Decision(const SshUser& user, const std::string& subject) {
    auto e = WaitForEvent("policy.decision", [&](const nlohmann::json& ev) {
      return ev["actor"] == user.name && ev["subject"] == subject;
    });
    EXPECT_TRUE(e.has_value()) << "no policy.decision for " << user.name << " -> " << subject
                               << "\n"
                               << DumpEvents("policy.");
    return e.value_or(nlohmann::json::object());
  }
  // Runs `ssh user:SPEC 'echo should-not-run'` and checks the refusal.
  void ExpectRefused(const SshUser& user, const std::string& spec, const std::string& line) {
    CommandResult r = Ssh(user, user.name + ":" + spec, {"echo should-not-run"});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
    EXPECT_EQ(OneLine(r.err), line) << Describe(r);
  }
};

TEST_F(SshPolicyTest, ForbiddenAndUnknownTargetsGetTheSameLine) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser a = NewUser();
  ExpectRefused(a, "plc-09", "portcullis: access to plc-09 denied by policy");
  nlohmann::json da = Decision(a, "plc-09");
  EXPECT_EQ(da["outcome"], "denied");
  EXPECT_TRUE(DetailIs(da, "rule", "default-deny")) << da.dump();
  EXPECT_TRUE(DetailIs(
      da, "reason", "no role allows this: ops: targets {site=plant-a} do not match target plc-09"))
      << da.dump();

  SshUser b = NewUser();
  ExpectRefused(b, "no-such-target", "portcullis: access to no-such-target denied by policy");
  nlohmann::json db = Decision(b, "no-such-target");
  EXPECT_EQ(db["outcome"], "denied");
  EXPECT_TRUE(DetailIs(db, "reason", "no such target")) << db.dump();

  // Neither got a certificate.
  for (const auto& e : AuditEvents("ca.cert_issued")) {
    EXPECT_NE(e["actor"], a.name) << e.dump();
    EXPECT_NE(e["actor"], b.name) << e.dump();
  }
}

TEST_F(SshPolicyTest, LoginNotInTheRoleIsDenied) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  ExpectRefused(u, "nobody@rtu-01",
                "portcullis: access to nobody@rtu-01 denied by policy: no role allows this: ops: "
                "login nobody not allowed");
  nlohmann::json d = Decision(u, "rtu-01");
  EXPECT_EQ(d["outcome"], "denied");
  EXPECT_TRUE(DetailIs(d, "login", "nobody")) << d.dump();
  EXPECT_TRUE(DetailIs(d, "reason", "no role allows this: ops: login nobody not allowed"))
      << d.dump();
}

TEST_F(SshPolicyTest, OutsideTheRoleHoursIsDenied) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  // A one-hour window that starts two hours from now (UTC): now is outside.
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  const std::string window =
      fmt::format("Mon-Sun {:02}:00-{:02}:00 UTC", (utc.tm_hour + 2) % 24, (utc.tm_hour + 3) % 24);
  ASSERT_NO_FATAL_FAILURE(ApplyRole(
      OpsRoleYaml("night-shift", login(), "both", fmt::format("  hours: \"{}\"\n", window))));
  SshUser u = NewUser({"night-shift"});
  CommandResult r = Ssh(u, u.name + ":rtu-01", {"echo should-not-run"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(OneLine(r.err),
              StartsWith("portcullis: access to (default login)@rtu-01 denied by policy: no role "
                         "allows this: night-shift: outside hours "))
      << Describe(r);
  nlohmann::json d = Decision(u, "rtu-01");
  EXPECT_EQ(d["outcome"], "denied");
  EXPECT_THAT(d["details"].value("reason", ""), HasSubstr("night-shift: outside hours "))
      << d.dump();
}

TEST_F(SshPolicyTest, ProtocolNotInTheRoleIsDenied) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(
      "kind: role\nname: vnc-only\nallow:\n  targets: {site: plant-a}\n  protocols: [vnc]\n"));
  SshUser u = NewUser({"vnc-only"});
  ExpectRefused(u, "rtu-01",
                "portcullis: access to (default login)@rtu-01 denied by policy: no role allows "
                "this: vnc-only: protocol ssh not allowed");
  nlohmann::json d = Decision(u, "rtu-01");
  EXPECT_EQ(d["outcome"], "denied");
  EXPECT_TRUE(DetailIs(d, "reason", "no role allows this: vnc-only: protocol ssh not allowed"))
      << d.dump();
}

TEST_F(SshPolicyTest, UploadRefusedWhereTheRoleAllowsOnlyDownload) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("readers", login(), "download")));
  const std::string local = broker().Join("fw.bin");
  const std::string remote_new = broker().Join("uploaded.bin");
  const std::string remote_existing = broker().Join("on-target.bin");
  const std::string fetched = broker().Join("fetched.bin");
  const std::string payload = PseudoRandomBytes(300'000, 3);
  ASSERT_TRUE(WriteWholeFile(local, PseudoRandomBytes(100'000, 2)).ok());
  ASSERT_TRUE(WriteWholeFile(remote_existing, payload).ok());
  const std::string port = std::to_string(ssh_port());

  // scp -O (legacy protocol): the "scp -t" exec is refused with one line.
  SshUser a = NewUser({"readers"});
  std::vector<std::string> legacy = {"scp", "-O", "-P", port};
  for (const auto& o : ClientOptions()) legacy.push_back(o);
  legacy.insert(legacy.end(),
                {"-o", "User=" + a.name + ":rtu-01", local, "127.0.0.1:" + remote_new});
  CommandResult r = Client(a, legacy);
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("portcullis: upload denied by policy (role file_transfer: "
                               "download)"))
      << Describe(r);
  EXPECT_NE(::access(remote_new.c_str(), F_OK), 0) << "the file must not reach the target";
  auto refusal = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == a.name && e["outcome"] == "denied" && DetailIs(e, "direction", "upload");
  });
  ASSERT_TRUE(refusal.has_value()) << DumpEvents("policy.");
  EXPECT_TRUE(DetailIs(*refusal, "path", remote_new)) << refusal->dump();
  EXPECT_TRUE(DetailIs(*refusal, "reason", "role readers file_transfer: download"))
      << refusal->dump();

  // sftp: put is refused, get works, in one session.
  SshUser b = NewUser({"readers"});
  std::vector<std::string> sftp = {"sftp", "-P", port};
  for (const auto& o : ClientOptions()) sftp.push_back(o);
  sftp.push_back(b.name + "+rtu-01@127.0.0.1");
  CommandResult s = Client(
      b, sftp,
      fmt::format("put {} {}\nget {} {}\nbye\n", local, remote_new, remote_existing, fetched));
  // OpenSSH's sftp shows the status code's text, not the server's message
  // ("Permission denied by Portcullis policy").
  EXPECT_THAT(s.err, HasSubstr(fmt::format("dest open \"{}\": Permission denied", remote_new)))
      << Describe(s);
  EXPECT_NE(::access(remote_new.c_str(), F_OK), 0) << "the file must not reach the target";
  auto got = ReadWholeFile(fetched);
  ASSERT_TRUE(got.ok()) << Describe(s);
  EXPECT_EQ(Sha256Hex(*got), Sha256Hex(payload));
  auto put_refused = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == b.name && e["outcome"] == "denied" && DetailIs(e, "request", "sftp");
  });
  ASSERT_TRUE(put_refused.has_value()) << DumpEvents("policy.");
  EXPECT_TRUE(DetailIs(*put_refused, "path", remote_new)) << put_refused->dump();
  EXPECT_TRUE(DetailIs(*put_refused, "reason", "role readers file_transfer: download"))
      << put_refused->dump();
  auto download =
      WaitForEvent("file.transfer", [&](const nlohmann::json& e) { return e["actor"] == b.name; });
  ASSERT_TRUE(download.has_value()) << DumpEvents("file.");
  EXPECT_TRUE(DetailIs(*download, "direction", "download")) << download->dump();
  EXPECT_TRUE(DetailIs(*download, "sha256", Sha256Hex(payload))) << download->dump();
  for (const auto& e : AuditEvents("file.transfer")) {
    EXPECT_FALSE(e["actor"] == b.name && DetailIs(e, "direction", "upload")) << e.dump();
  }
}

TEST_F(SshPolicyTest, TunnelsOnlyToTheRoleDestinationsWithBytesAudited) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  EchoServer allowed_echo;
  EchoServer other_echo;
  ASSERT_NE(allowed_echo.port(), 0);
  ASSERT_NE(other_echo.port(), 0);
  const std::string allowed = fmt::format("127.0.0.1:{}", allowed_echo.port());
  const std::string forbidden = fmt::format("127.0.0.1:{}", other_echo.port());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(
      OpsRoleYaml("modbus", login(), "none", fmt::format("  tunnels: [\"{}\"]\n", allowed))));
  SshUser u = NewUser({"modbus"});
  const int l1 = PickFreePort();
  int l2 = PickFreePort();
  while (l2 == l1) l2 = PickFreePort();
  ASSERT_NE(l1, 0);
  // On a terminal so the test can read ssh's messages while it runs.
  auto started = PtyProcess::Start(
      SshArgv(u.name + ":rtu-01", {},
              // ssh logs a refused channel at level INFO.
              {"-N", "-o", "LogLevel=INFO", "-o", "ExitOnForwardFailure=yes", "-L",
               fmt::format("{}:{}", l1, allowed), "-L", fmt::format("{}:{}", l2, forbidden)}),
      AskpassEnv(u));
  ASSERT_TRUE(started.ok()) << started.status();
  PtyProcess* ssh = started->get();
  // The forwards listen once ssh is logged in.
  int fd = -1;
  for (int i = 0; i < 300 && fd < 0 && ssh->running(); ++i) {
    fd = ConnectLoopback(l1);
    if (fd < 0) ssh->ReadSome(std::chrono::milliseconds(100));
  }
  ASSERT_GE(fd, 0) << ssh->output();
  const std::string ping = "modbus-ping-0123456789\n";
  EXPECT_EQ(EchoRoundTrip(fd, ping), ping);
  ::close(fd);

  // The other destination: the channel is refused, the local socket closed,
  // and the echo server never sees a connection.
  int fd2 = ConnectLoopback(l2);
  ASSERT_GE(fd2, 0);
  EXPECT_EQ(EchoRoundTrip(fd2, "x", std::chrono::seconds(10)), "");
  ::close(fd2);
  EXPECT_TRUE(ssh->ReadUntil("open failed: administratively prohibited")) << "ssh said:\n"
                                                                          << ssh->output();
  EXPECT_EQ(other_echo.accepted(), 0);

  auto close_ev =
      WaitForEvent("tunnel.close", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ssh->Signal(SIGTERM);
  ssh->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(close_ev.has_value()) << DumpEvents("tunnel.");
  EXPECT_TRUE(DetailIs(*close_ev, "destination", allowed)) << close_ev->dump();
  EXPECT_EQ((*close_ev)["details"].value("bytes_up", uint64_t{0}), ping.size()) << close_ev->dump();
  EXPECT_EQ((*close_ev)["details"].value("bytes_down", uint64_t{0}), ping.size())
      << close_ev->dump();
  auto open_ev =
      WaitForEvent("tunnel.open", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ASSERT_TRUE(open_ev.has_value()) << DumpEvents("tunnel.");
  EXPECT_EQ((*open_ev)["outcome"], "success");
  EXPECT_TRUE(DetailIs(*open_ev, "destination", allowed)) << open_ev->dump();
  auto refused = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && DetailIs(e, "destination", forbidden);
  });
  ASSERT_TRUE(refused.has_value()) << DumpEvents("policy.");
  EXPECT_EQ((*refused)["outcome"], "denied");
  EXPECT_THAT((*refused)["details"].value("reason", ""),
              HasSubstr("modbus: tunnel " + forbidden + " not allowed"))
      << refused->dump();
  for (const auto& e : AuditEvents("tunnel.open")) {
    EXPECT_FALSE(DetailIs(e, "destination", forbidden)) << e.dump();
  }
}

}  // namespace
}  // namespace portcullis::testing
