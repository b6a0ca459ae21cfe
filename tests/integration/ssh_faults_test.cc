// Bad input and faults on the SSH path: garbage instead of a banner, an
// oversized packet, a client that stalls, 200 connections that never
// authenticate, a target that is down or dies mid-session, a client that
// vanishes. Each costs only its own connection: the broker keeps serving,
// and the user gets a clear message.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using SteadyClock = std::chrono::steady_clock;

// Reads from `fd` until EOF (or an error) within `timeout`. Returns the
// bytes read, or nullopt if the peer kept the connection open.
std::optional<std::string> ReadUntilClosed(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string got;
  for (;;) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (ms.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(ms.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return got;
    got.append(buf, static_cast<size_t>(n));
  }
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

class SshFaultsTest : public SshTest {
 protected:
  // A normal exec session still works.
  void ExpectServing(const std::string& tag) {
    SshUser u = NewUser();
    CommandResult r = Ssh(u, u.name + ":rtu-01", {"echo " + tag});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.out, tag + "\n") << Describe(r);
  }
};

TEST_F(SshFaultsTest, GarbageOversizedPacketsAndStalledClientsCostOnlyTheirConnection) {
  // A short pre-authentication timeout, so the stalled client is dropped.
  EnvOptions env;
  env.broker_extra_config = "ssh:\n  auth_timeout: 5s\n";
  ASSERT_NO_FATAL_FAILURE(StartAll(env));

  // A client that connects and never says anything.
  int stalled = ConnectLoopback(ssh_port());
  ASSERT_GE(stalled, 0);
  const auto stalled_at = SteadyClock::now();

  // Random bytes instead of a banner.
  int garbage = ConnectLoopback(ssh_port());
  ASSERT_GE(garbage, 0);
  SendAll(garbage, PseudoRandomBytes(64 * 1024, 99));
  auto g = ReadUntilClosed(garbage, std::chrono::seconds(15));
  EXPECT_TRUE(g.has_value()) << "the broker kept a connection that sent garbage";
  ::close(garbage);

  // A valid banner, then a packet that claims to be 2 GiB long.
  int huge = ConnectLoopback(ssh_port());
  ASSERT_GE(huge, 0);
  std::string packet = "SSH-2.0-OpenSSH_9.2 fault-test\r\n";
  packet += std::string("\x7f\xff\xff\xf0\x04", 5) + PseudoRandomBytes(4096, 5);
  SendAll(huge, packet);
  auto h = ReadUntilClosed(huge, std::chrono::seconds(15));
  EXPECT_TRUE(h.has_value()) << "the broker kept a connection that sent an oversized packet";
  if (h) {
    EXPECT_THAT(*h, StartsWith("SSH-2.0-")) << "it greeted before refusing";
  }
  ::close(huge);

  // Meanwhile the broker serves a real user.
  ASSERT_NO_FATAL_FAILURE(ExpectServing("still-serving"));

  // The stalled client is dropped after auth_timeout (5 s), not before the
  // broker sent its banner and not never.
  auto s = ReadUntilClosed(stalled, std::chrono::seconds(30));
  const auto stalled_for = SteadyClock::now() - stalled_at;
  EXPECT_TRUE(s.has_value()) << "a stalled client was never dropped";
  if (s) {
    EXPECT_THAT(*s, StartsWith("SSH-2.0-"));
  }
  EXPECT_GE(stalled_for, std::chrono::seconds(4));
  ::close(stalled);

  auto failed = WaitForEvent("ssh.handshake_failed", [](const nlohmann::json&) { return true; });
  EXPECT_TRUE(failed.has_value()) << DumpEvents("ssh.");
  ASSERT_NO_FATAL_FAILURE(ExpectServing("serving-after"));
  EXPECT_TRUE(broker().running());
}

TEST_F(SshFaultsTest, TwoHundredUnauthenticatedConnectionsDoNotStopARealUser) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  std::vector<int> idle;
  const auto connect_start = SteadyClock::now();
  for (int i = 0; i < 200; ++i) {
    int fd = ConnectLoopback(ssh_port());
    ASSERT_GE(fd, 0) << "connection " << i;
    ASSERT_TRUE(SendAll(fd, "SSH-2.0-OpenSSH_9.2 idle\r\n"));
    idle.push_back(fd);
  }
  // A burst of connections is not throttled by TCP retransmits (libssh's
  // listen backlog of 10 dropped SYNs: 1 s each time it overflowed).
  EXPECT_LT(SteadyClock::now() - connect_start, std::chrono::seconds(10));
  const auto start = SteadyClock::now();
  ASSERT_NO_FATAL_FAILURE(ExpectServing("busy-but-serving"));
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(20));
  // They are all still open (nobody was dropped to make room).
  int open = 0;
  for (int fd : idle) {
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    bool closed = false;
    while (::poll(&p, 1, 0) > 0) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) {
        closed = n == 0;
        break;
      }
    }
    open += closed ? 0 : 1;
  }
  EXPECT_EQ(open, 200);
  for (int fd : idle) ::close(fd);
  ASSERT_NO_FATAL_FAILURE(ExpectServing("serving-after"));
}

// One address trying user names over SSH: after
// auth.lockout_failures_per_source failures it is refused, even a real
// user with the right password and code, with its audit rows; the user
// was not locked by it.
TEST_F(SshFaultsTest, AnAddressThatFailsTooOftenIsRefusedEvenWithTheRightCredentials) {
  EnvOptions eo;
  eo.broker_auth_extra = "  lockout_failures_per_source: 3\n";
  ASSERT_NO_FATAL_FAILURE(StartAll(eo));
  SshUser u = NewUser();
  for (int i = 0; i < 3; ++i) {
    CommandResult r = Ssh(u, "ghost" + std::to_string(i) + ":rtu-01", {"true"});
    EXPECT_NE(r.exit_code, 0) << Describe(r);
  }
  ASSERT_TRUE(WaitForEvent("auth.source_lockout", [](const nlohmann::json&) { return true; }))
      << "no auth.source_lockout row";
  CommandResult refused = Ssh(u, u.name + ":rtu-01", {"echo", "in"});
  EXPECT_NE(refused.exit_code, 0) << Describe(refused);
  EXPECT_EQ(refused.out.find("in"), std::string::npos) << Describe(refused);
  EXPECT_TRUE(WaitForEvent("auth.login", [&](const nlohmann::json& e) {
    return e.value("subject", "") == u.name && e["details"].value("reason", "") == "source locked";
  })) << "no 'source locked' row for " << u.name;
  // Nothing was counted against the user: not locked.
  CommandResult ls = Admin({"users", "ls"});
  const size_t at = ls.out.find(u.name + " ");
  ASSERT_NE(at, std::string::npos) << ls.out;
  const std::string row = ls.out.substr(at, ls.out.find('\n', at) - at);
  EXPECT_NE(row.find("active"), std::string::npos) << row;
}

TEST_F(SshFaultsTest, UnreachableTargetGetsAClearMessageQuickly) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const int dead_port = PickFreePort();  // nothing listens there
  ASSERT_NE(dead_port, 0);
  CommandResult add =
      AddTarget("rtu-down", fmt::format("127.0.0.1:{}", dead_port), {"--label", "site=plant-a"});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  SshUser u = NewUser();
  const auto start = SteadyClock::now();
  CommandResult r = Ssh(u, u.name + ":rtu-down", {"echo should-not-run"});
  const auto took = SteadyClock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(
      r.err, StartsWith(fmt::format("portcullis: cannot reach rtu-down (127.0.0.1:{})", dead_port)))
      << Describe(r);
  EXPECT_LT(took, std::chrono::seconds(10));
  auto failed = WaitForEvent("session.target_failed", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["subject"] == "rtu-down";
  });
  ASSERT_TRUE(failed.has_value()) << DumpEvents("session.");
  EXPECT_EQ((*failed)["outcome"], "failure");
}

TEST_F(SshFaultsTest, TargetDyingMidSessionEndsTheUserSessionWithAMessage) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  auto ssh =
      PtyProcess::Start(SshArgv(u.name + ":rtu-01", {"echo started; sleep 30"}), AskpassEnv(u));
  ASSERT_TRUE(ssh.ok()) << ssh.status();
  ASSERT_TRUE((*ssh)->ReadUntil("started")) << (*ssh)->output();
  const auto killed_at = SteadyClock::now();
  target().Crash();
  auto code = (*ssh)->WaitExit(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << "ssh still running 15 s after the target died:\n"
                                << (*ssh)->output();
  EXPECT_LT(SteadyClock::now() - killed_at, std::chrono::seconds(5));
  EXPECT_NE(*code, 0);
  EXPECT_THAT((*ssh)->output(), HasSubstr("portcullis: the connection to rtu-01 was lost"));
  auto end =
      WaitForEvent("session.end", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ASSERT_TRUE(end.has_value()) << DumpEvents("session.");
  EXPECT_TRUE(DetailIs(*end, "reason", "target-closed")) << end->dump();
}

TEST_F(SshFaultsTest, ClientVanishingMidSessionCostsOnlyItsConnection) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  auto ssh =
      PtyProcess::Start(SshArgv(u.name + ":rtu-01", {"echo started; sleep 30"}), AskpassEnv(u));
  ASSERT_TRUE(ssh.ok()) << ssh.status();
  ASSERT_TRUE((*ssh)->ReadUntil("started")) << (*ssh)->output();
  (*ssh)->Signal(SIGKILL);  // no SSH_MSG_DISCONNECT, no channel close: the socket just closes
  ASSERT_TRUE((*ssh)->WaitExit(std::chrono::seconds(10)).has_value());
  auto end =
      WaitForEvent("session.end", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ASSERT_TRUE(end.has_value()) << DumpEvents("session.");
  EXPECT_TRUE(DetailIs(*end, "reason", "client-closed")) << end->dump();
  ASSERT_NO_FATAL_FAILURE(ExpectServing("serving-after"));
  EXPECT_TRUE(broker().running());
}

}  // namespace
}  // namespace portcullis::testing
