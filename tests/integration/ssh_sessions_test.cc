// The life of a live SSH session: `portcullis sessions ls` shows it and
// `sessions kill` ends it at once (both connections), the role's max_session
// warns and then ends it, `users disable` ends the user's sessions, and a
// broker shutdown ends every session with a notice and still exits cleanly.
// Each end is told to the user and audited (session.ending, session.end).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;

class SshSessionsTest : public SshTest {
 protected:
  // `ssh USER:rtu-01 'echo started; sleep 60'` on a terminal, once it runs.
  void StartSleeper(const SshUser& u, std::unique_ptr<PtyProcess>* out) {
    auto ssh =
        PtyProcess::Start(SshArgv(u.name + ":rtu-01", {"echo started; sleep 60"}), AskpassEnv(u));
    ASSERT_TRUE(ssh.ok()) << ssh.status();
    ASSERT_TRUE((*ssh)->ReadUntil("started")) << (*ssh)->output();
    *out = std::move(*ssh);
  }
  // The session.end row of `u`, with `reason`.
  void ExpectEnded(const SshUser& u, const std::string& reason) {
    auto end =
        WaitForEvent("session.end", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
    ASSERT_TRUE(end.has_value()) << DumpEvents("session.");
    EXPECT_TRUE(DetailIs(*end, "reason", reason)) << end->dump();
  }
};

TEST_F(SshSessionsTest, BrokerShutdownEndsLiveSessionsWithANoticeAndExitsCleanly) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  std::unique_ptr<PtyProcess> ssh;
  ASSERT_NO_FATAL_FAILURE(StartSleeper(u, &ssh));
  auto stopped = broker().Stop();  // SIGTERM; exit status 0 within 5 s
  EXPECT_TRUE(stopped.ok()) << stopped;
  auto code = ssh->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value()) << ssh->output();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(ssh->output(), HasSubstr("portcullis: the broker is shutting down; closing."));
}

TEST_F(SshSessionsTest, ShutdownDoesNotWaitForATargetThatNeverAnswers) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  // A target whose TCP handshake completes (the kernel's backlog) but that
  // never sends its SSH banner.
  int mute = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(mute, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(mute, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(listen(mute, 8), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(getsockname(mute, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const std::string address = fmt::format("127.0.0.1:{}", ntohs(sa.sin_port));
  ASSERT_EQ(AddTarget("mute-01", address, {"--label", "site=plant-a"}).exit_code, 0);
  SshUser u = NewUser();
  auto ssh = PtyProcess::Start(SshArgv(u.name + ":mute-01", {"echo never"}), AskpassEnv(u));
  ASSERT_TRUE(ssh.ok()) << ssh.status();
  // Admitted: the broker is now waiting for the target (15 s by default).
  auto allowed = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["outcome"] == "allowed";
  });
  ASSERT_TRUE(allowed.has_value()) << DumpEvents("policy.") << (*ssh)->output();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = SteadyClock::now();
  auto stopped = broker().Stop();  // SIGTERM; exit status 0 within 5 s
  const auto took = SteadyClock::now() - start;
  EXPECT_TRUE(stopped.ok()) << stopped;
  std::printf("shutdown with a session connecting to a mute target took %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(took, std::chrono::seconds(5));
  auto code = (*ssh)->WaitExit(std::chrono::seconds(10));
  EXPECT_TRUE(code.has_value()) << (*ssh)->output();
  close(mute);
  // The session's rows, read from the restarted broker.
  ASSERT_TRUE(broker().Start().ok());
  ExpectEnded(u, "shutdown");
}

TEST_F(SshSessionsTest, SessionsKillEndsTheSessionAtOnce) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  std::unique_ptr<PtyProcess> ssh;
  ASSERT_NO_FATAL_FAILURE(StartSleeper(u, &ssh));

  CommandResult ls = Admin({"sessions", "ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  auto sessions = nlohmann::json::parse(ls.out, nullptr, false);
  ASSERT_TRUE(sessions.is_array()) << ls.out;
  std::string id;
  for (const auto& s : sessions) {
    if (s.value("user", "") == u.name) {
      id = s.value("id", "");
      EXPECT_EQ(s.value("target", ""), "rtu-01") << s.dump();
      EXPECT_EQ(s.value("login", ""), login()) << s.dump();
      EXPECT_EQ(s.value("protocol", ""), "ssh") << s.dump();
    }
  }
  ASSERT_FALSE(id.empty()) << "no live session of " << u.name << " in:\n" << ls.out;

  const auto invoked = SteadyClock::now();
  CommandResult kill = Admin({"sessions", "kill", id});
  // Measured from the RPC's return (the CLI has exited by then).
  const auto start = SteadyClock::now();
  std::printf("sessions kill: the CLI took %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         start - invoked)
                                         .count()));
  ASSERT_EQ(kill.exit_code, 0) << Describe(kill);
  auto code = ssh->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value()) << "ssh still running 10 s after the kill:\n" << ssh->output();
  const auto user_closed = SteadyClock::now() - start;
  // The broker's connection to the target closes too (sshd's last line for
  // an authenticated connection).
  const std::string gone = "Closing connection to 127.0.0.1 port";
  while (target().log().find(gone) == std::string::npos &&
         SteadyClock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto target_closed = SteadyClock::now() - start;
  EXPECT_THAT(target().log(), HasSubstr(gone));
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::printf("sessions kill: user's connection closed after %lld ms, target's after %lld ms\n",
              static_cast<long long>(ms(user_closed)), static_cast<long long>(ms(target_closed)));
  EXPECT_LE(user_closed, std::chrono::seconds(1));
  EXPECT_LE(target_closed, std::chrono::seconds(1));
  EXPECT_NE(*code, 0);
  EXPECT_THAT(ssh->output(),
              HasSubstr(fmt::format("portcullis: session ended by administrator {}.", kAdminName)));
  auto ending =
      WaitForEvent("session.ending", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ASSERT_TRUE(ending.has_value()) << DumpEvents("session.");
  EXPECT_EQ((*ending)["outcome"], "killed") << ending->dump();
  auto end =
      WaitForEvent("session.end", [&](const nlohmann::json& e) { return e["actor"] == u.name; });
  ASSERT_TRUE(end.has_value()) << DumpEvents("session.");
  EXPECT_TRUE(DetailIs(*end, "reason", "killed")) << end->dump();
  CommandResult after = Admin({"sessions", "ls", "--json"});
  EXPECT_THAT(after.out, ::testing::Not(HasSubstr("\"" + u.name + "\""))) << after.out;
}

TEST_F(SshSessionsTest, MaxSessionWarnsThenEndsTheSession) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(
      ApplyRole(OpsRoleYaml("short", login(), "both") + "options:\n  max_session: 4s\n"));
  SshUser u = NewUser({"short"});
  const auto start = SteadyClock::now();
  std::unique_ptr<PtyProcess> ssh;
  ASSERT_NO_FATAL_FAILURE(StartSleeper(u, &ssh));
  auto code = ssh->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << ssh->output();
  EXPECT_NE(*code, 0);
  // Less than a minute was left from the start, so the notice came at once
  // (possibly before the command's first output), then the end.
  const std::string& out = ssh->output();
  const size_t warn = out.find("portcullis: this session ends at ");
  const size_t end = out.find("portcullis: the role's maximum session time is reached; closing.");
  ASSERT_NE(warn, std::string::npos) << out;
  ASSERT_NE(end, std::string::npos) << out;
  EXPECT_LT(warn, end) << out;
  EXPECT_THAT(out, HasSubstr("(the role's max_session).")) << out;
  EXPECT_GE(SteadyClock::now() - start, std::chrono::seconds(3)) << "not before max_session";
  ASSERT_NO_FATAL_FAILURE(ExpectEnded(u, "max-session"));
}

TEST_F(SshSessionsTest, UsersDisableEndsTheUsersLiveSessions) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  SshUser other = NewUser();
  std::unique_ptr<PtyProcess> ssh, bystander;
  ASSERT_NO_FATAL_FAILURE(StartSleeper(u, &ssh));
  ASSERT_NO_FATAL_FAILURE(StartSleeper(other, &bystander));
  CommandResult disable = Admin({"users", "disable", u.name});
  ASSERT_EQ(disable.exit_code, 0) << Describe(disable);
  auto code = ssh->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value()) << ssh->output();
  EXPECT_NE(*code, 0);
  EXPECT_THAT(ssh->output(),
              HasSubstr("portcullis: your account was disabled by an administrator; closing."));
  ASSERT_NO_FATAL_FAILURE(ExpectEnded(u, "user-disabled"));
  // Only that user's sessions end.
  EXPECT_TRUE(bystander->running()) << bystander->output();
}

}  // namespace
}  // namespace portcullis::testing
