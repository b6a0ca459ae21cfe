// Logins against a hostile user: parallel guessing against the lockout, old
// login certificates of a user that was removed, disabled or reset, and a
// flood of unauthenticated Login calls.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "portcullis/v1/auth.grpc.pb.h"
#include "tests/integration/api_client.h"
#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";
constexpr char kFrankPassword[] = "frank-field-pw-17-long";

constexpr char kRoleYaml[] = R"(kind: role
name: field
allow:
  targets: {site: a}
  logins: [maint]
  protocols: [ssh]
)";

// VmRSS or VmHWM (peak) of `pid` in KiB, from /proc; -1 if unreadable.
class HostileLoginTest : public BrokerTest {
 protected:
  nlohmann::json AuditJson(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"audit", "ls", "--json", "--limit", "5000"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Admin(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_array() ? j : nlohmann::json::array();
  }
  // Audit events of `type` about `subject` with details.reason `reason`.
  static int CountReason(const nlohmann::json& events, const std::string& type,
                         const std::string& subject, const std::string& reason) {
    int n = 0;
    for (const auto& e : events) {
      n += e.value("type", "") == type && e.value("subject", "") == subject &&
           e.contains("details") && e["details"].is_object() &&
           e["details"].value("reason", "") == reason;
    }
    return n;
  }
  // `n` codes valid for `secret` at none of the steps now-2 .. now+2.
  static std::vector<std::string> WrongCodes(const std::string& secret, int n) {
    std::set<std::string> valid;
    for (int s = -2; s <= 2; ++s) valid.insert(TotpCode(secret, s));
    std::vector<std::string> out;
    for (int i = 0; static_cast<int>(out.size()) < n; ++i) {
      std::string code = std::to_string(100000 + i * 7919);
      if (!valid.count(code)) out.push_back(code);
    }
    return out;
  }
  static grpc::Status GrpcLogin(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& user, const std::string& password,
                                const std::string& code) {
    auto stub = v1::AuthService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    v1::LoginRequest req;
    req.set_user(user);
    req.set_password(password);
    req.set_totp_code(code);
    v1::LoginResponse resp;
    return stub->Login(&ctx, req, &resp);
  }

  // A broker with its SSH listener, the `field` role and one ssh target
  // (port 1: nothing listens, so a session gets past authentication and
  // then fails at the target).
  void StartWithSsh(BrokerOptions opts = {}) {
    opts.ssh_port = PickFreePort();
    ASSERT_NE(opts.ssh_port, 0);
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(opts));
    const std::string role = broker().Join("field.yaml");
    ASSERT_TRUE(WriteWholeFile(role, kRoleYaml).ok());
    ASSERT_EQ(Admin({"roles", "apply", "-f", role}).exit_code, 0);
    CommandResult t = Admin({"targets", "add", "rtu-01", "--address", "127.0.0.1:1",
                             "--protocol", "ssh", "--label", "site=a"});
    ASSERT_EQ(t.exit_code, 0) << Describe(t);
  }
  std::string Frank() const { return broker_->Home("frank"); }
  CommandResult LoginFrank(const std::string& password, const std::string& secret, int step) {
    return broker().Login(Frank(), "frank", password, TotpCode(secret, step));
  }
  // ssh with the files `portcullis login` wrote for frank, certificate only.
  CommandResult SshAsFrank() {
    return RunCommand({"ssh", "-F", Frank() + "/ssh_config", "-o", "BatchMode=yes", "-o",
                       "PreferredAuthentications=publickey", "-o", "ConnectTimeout=10", "rtu-01",
                       "true"},
                      "", std::chrono::seconds(40));
  }
  // Passes authentication (and fails only at the unreachable target).
  static bool LoggedIn(const CommandResult& ssh) {
    return ssh.err.find("Permission denied") == std::string::npos &&
           ssh.err.find("Host key verification failed") == std::string::npos;
  }
  std::string CertFile() const { return Frank() + "/id_ed25519-cert.pub"; }
};

// 60 parallel gRPC logins with bob's right password and 60 different wrong
// codes: exactly lockout_failures (5) codes are evaluated, the other 55
// attempts are refused before their code is looked at, and afterwards the
// right code is refused too.
TEST_F(HostileLoginTest, ParallelGrpcLoginsGetAtMostTheLimitOfCodesEvaluated) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  auto secret = broker().AddUser("bob", kBobPassword, {});
  ASSERT_TRUE(secret.ok()) << secret.status();
  auto channel = ApiChannel(broker());
  const auto codes = WrongCodes(*secret, 60);
  std::atomic<int> ok{0}, unauthenticated{0}, busy{0};
  std::vector<std::thread> threads;
  for (const auto& code : codes) {
    threads.emplace_back([&, code] {
      grpc::Status st = GrpcLogin(channel, "bob", kBobPassword, code);
      ok += st.ok();
      unauthenticated += st.error_code() == grpc::StatusCode::UNAUTHENTICATED;
      busy += st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 0);
  EXPECT_EQ(unauthenticated.load() + busy.load(), 60);

  nlohmann::json events = AuditJson({"--type", "auth."});
  const int evaluated = CountReason(events, "auth.mfa_failure", "bob", "wrong verification code");
  EXPECT_EQ(evaluated, 5) << "TOTP codes evaluated";
  EXPECT_EQ(CountReason(events, "auth.login", "bob", "account locked") +
                CountReason(events, "auth.login", "bob", "broker busy"),
            55);
  CommandResult right = broker().Login(broker().Home("bob"), "bob", kBobPassword,
                                       TotpCode(*secret, 0));
  EXPECT_NE(right.exit_code, 0) << Describe(right);
  CommandResult users = Admin({"users", "ls"});
  EXPECT_THAT(users.out, ::testing::ContainsRegex("bob +locked"));
}

// The same over SSH keyboard-interactive with parallel `ssh` clients, each
// typing the right password and its own wrong code (through SSH_ASKPASS).
TEST_F(HostileLoginTest, ParallelSshLoginsGetAtMostTheLimitOfCodesEvaluated) {
  BrokerOptions opts;
  opts.lockout_failures = 3;
  ASSERT_NO_FATAL_FAILURE(StartWithSsh(opts));
  auto secret = broker().AddUser("bob", kBobPassword, {"field"});
  ASSERT_TRUE(secret.ok()) << secret.status();
  const std::string askpass = broker().Join("askpass.sh");
  ASSERT_TRUE(WriteWholeFile(askpass,
                             "#!/bin/sh\ncase \"$1\" in *assword*) echo \"$PC_PW\";; "
                             "*) echo \"$PC_CODE\";; esac\n",
                             0700)
                  .ok());
  constexpr int kClients = 12;
  const auto codes = WrongCodes(*secret, kClients);
  std::vector<std::thread> threads;
  std::atomic<int> denied{0};
  for (const auto& code : codes) {
    threads.emplace_back([&, code] {
      CommandResult r = RunCommand(
          {"ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o",
           "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=keyboard-interactive",
           "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=20", "-p",
           std::to_string(broker().options().ssh_port), "bob:rtu-01@127.0.0.1", "true"},
          "", std::chrono::seconds(90),
          {"SSH_ASKPASS=" + askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0",
           "PC_PW=" + std::string(kBobPassword), "PC_CODE=" + code});
      denied += r.exit_code == 255;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(denied.load(), kClients);
  nlohmann::json events = AuditJson({"--type", "auth."});
  EXPECT_EQ(CountReason(events, "auth.mfa_failure", "bob", "wrong verification code"), 3)
      << "TOTP codes evaluated";
  EXPECT_GE(CountReason(events, "auth.login", "bob", "account locked") +
                CountReason(events, "auth.login", "bob", "broker busy"),
            kClients - 3);
}

// `users rm frank` + `users add frank`: the old frank's login certificate
// does not log in as the new frank; the new frank's own login does.
TEST_F(HostileLoginTest, CertificateOfARemovedUserDoesNotLogInAsTheNewOne) {
  ASSERT_NO_FATAL_FAILURE(StartWithSsh());
  auto secret = broker().AddUser("frank", kFrankPassword, {"field"});
  ASSERT_TRUE(secret.ok()) << secret.status();
  CommandResult login = LoginFrank(kFrankPassword, *secret, 0);
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  CommandResult before = SshAsFrank();
  ASSERT_TRUE(LoggedIn(before)) << Describe(before);

  ASSERT_EQ(Admin({"users", "rm", "frank"}).exit_code, 0);
  auto new_secret = broker().AddUser("frank", kFrankPassword, {"field"});
  ASSERT_TRUE(new_secret.ok()) << new_secret.status();
  CommandResult old_cert = SshAsFrank();
  EXPECT_EQ(old_cert.exit_code, 255) << Describe(old_cert);
  EXPECT_THAT(old_cert.err, HasSubstr("Permission denied")) << Describe(old_cert);

  CommandResult fresh = LoginFrank(kFrankPassword, *new_secret, 0);
  ASSERT_EQ(fresh.exit_code, 0) << Describe(fresh);
  CommandResult after = SshAsFrank();
  EXPECT_TRUE(LoggedIn(after)) << Describe(after);
}

// `users disable` + `users enable` do not bring back certificates issued
// before the disable.
TEST_F(HostileLoginTest, DisableThenEnableDoesNotReviveOldCertificates) {
  ASSERT_NO_FATAL_FAILURE(StartWithSsh());
  auto secret = broker().AddUser("frank", kFrankPassword, {"field"});
  ASSERT_TRUE(secret.ok()) << secret.status();
  ASSERT_EQ(LoginFrank(kFrankPassword, *secret, 0).exit_code, 0);
  CommandResult before = SshAsFrank();
  ASSERT_TRUE(LoggedIn(before)) << Describe(before);

  ASSERT_EQ(Admin({"users", "disable", "frank"}).exit_code, 0);
  ASSERT_EQ(Admin({"users", "enable", "frank"}).exit_code, 0);
  CommandResult old_cert = SshAsFrank();
  EXPECT_EQ(old_cert.exit_code, 255) << Describe(old_cert);
  EXPECT_THAT(old_cert.err, HasSubstr("Permission denied")) << Describe(old_cert);
  nlohmann::json events = AuditJson({"--type", "auth.login"});
  EXPECT_GE(CountReason(events, "auth.login", "frank", "login certificate revoked"), 1)
      << events.dump(2);

  CommandResult fresh = LoginFrank(kFrankPassword, *secret, 1);  // step 0 was used
  ASSERT_EQ(fresh.exit_code, 0) << Describe(fresh);
  CommandResult after = SshAsFrank();
  EXPECT_TRUE(LoggedIn(after)) << Describe(after);
}

// `users reset frank`: a new password and TOTP seed (printed as an otpauth
// URI), audited; the old certificate and token stop working; a login with
// the new credentials works and the old ones do not.
TEST_F(HostileLoginTest, ResetRevokesOldCertificateAndTokenAndIssuesNewCredentials) {
  ASSERT_NO_FATAL_FAILURE(StartWithSsh());
  auto secret = broker().AddUser("frank", kFrankPassword, {"field"});
  ASSERT_TRUE(secret.ok()) << secret.status();
  ASSERT_EQ(LoginFrank(kFrankPassword, *secret, 0).exit_code, 0);
  ASSERT_TRUE(LoggedIn(SshAsFrank()));
  ASSERT_EQ(broker().Cli(Frank(), {"whoami"}).exit_code, 0);

  const std::string new_password = "frank-reset-pw-99-long";
  CommandResult reset = Admin({"users", "reset", "frank", "--password-stdin"}, new_password + "\n");
  ASSERT_EQ(reset.exit_code, 0) << Describe(reset);
  const std::string new_secret = ExtractTotpSecret(reset.out);
  ASSERT_FALSE(new_secret.empty()) << reset.out;
  EXPECT_NE(new_secret, *secret);

  CommandResult old_cert = SshAsFrank();
  EXPECT_EQ(old_cert.exit_code, 255) << Describe(old_cert);
  EXPECT_THAT(old_cert.err, HasSubstr("Permission denied")) << Describe(old_cert);
  EXPECT_NE(broker().Cli(Frank(), {"whoami"}).exit_code, 0) << "old token still works";
  nlohmann::json events = AuditJson({"--type", "admin.user_reset"});
  ASSERT_EQ(events.size(), 1u) << events.dump(2);
  EXPECT_EQ(events[0].value("subject", ""), "frank");
  EXPECT_EQ(events[0].value("actor", ""), kAdminName);
  EXPECT_EQ(reset.out.find(kFrankPassword), std::string::npos);

  EXPECT_NE(LoginFrank(kFrankPassword, new_secret, 0).exit_code, 0) << "old password";
  CommandResult fresh = LoginFrank(new_password, new_secret, 0);
  ASSERT_EQ(fresh.exit_code, 0) << Describe(fresh);
  CommandResult after = SshAsFrank();
  EXPECT_TRUE(LoggedIn(after)) << Describe(after);

  // Admin only.
  CommandResult by_frank =
      broker().Cli(Frank(), {"users", "reset", "alice", "--password-stdin"}, new_password + "\n");
  EXPECT_NE(by_frank.exit_code, 0) << Describe(by_frank);
}

// `users reset-totp frank`: a new seed, and, as the old factor may be in
// someone else's hands, the certificate and token obtained with it stop
// working; the password stays, and a login with it and the new seed works
// (the old seed's codes do not).
TEST_F(HostileLoginTest, ResetTotpRevokesWhatTheOldFactorObtained) {
  ASSERT_NO_FATAL_FAILURE(StartWithSsh());
  auto secret = broker().AddUser("frank", kFrankPassword, {"field"});
  ASSERT_TRUE(secret.ok()) << secret.status();
  ASSERT_EQ(LoginFrank(kFrankPassword, *secret, 0).exit_code, 0);
  ASSERT_TRUE(LoggedIn(SshAsFrank()));
  ASSERT_EQ(broker().Cli(Frank(), {"whoami"}).exit_code, 0);

  CommandResult reset = Admin({"users", "reset-totp", "frank"});
  ASSERT_EQ(reset.exit_code, 0) << Describe(reset);
  EXPECT_THAT(reset.out, HasSubstr("0 session(s) ended; earlier logins revoked"));
  const std::string new_secret = ExtractTotpSecret(reset.out);
  ASSERT_FALSE(new_secret.empty()) << reset.out;
  EXPECT_NE(new_secret, *secret);

  CommandResult old_cert = SshAsFrank();
  EXPECT_EQ(old_cert.exit_code, 255) << Describe(old_cert);
  EXPECT_THAT(old_cert.err, HasSubstr("Permission denied")) << Describe(old_cert);
  EXPECT_NE(broker().Cli(Frank(), {"whoami"}).exit_code, 0) << "old token still works";
  nlohmann::json events = AuditJson({"--type", "admin.totp_reset"});
  ASSERT_EQ(events.size(), 1u) << events.dump(2);
  EXPECT_EQ(events[0].value("subject", ""), "frank");
  EXPECT_EQ(events[0]["details"]["sessions_ended"], 0);
  EXPECT_GE(events[0]["details"]["login_generation"].get<int64_t>(), 2);

  EXPECT_NE(LoginFrank(kFrankPassword, *secret, 1).exit_code, 0) << "old seed";
  CommandResult fresh = LoginFrank(kFrankPassword, new_secret, 0);
  ASSERT_EQ(fresh.exit_code, 0) << Describe(fresh);
  EXPECT_TRUE(LoggedIn(SshAsFrank()));
}

// 400 parallel unauthenticated Login calls with the default Argon2 cost
// (19 MiB each) and the default auth.max_concurrent_logins (2 x CPUs): the
// broker's peak RSS stays under a bound (at most that many verifications
// run at once, and their memory goes back to the kernel), its RSS
// afterwards returns near idle, and a legitimate login during the flood
// succeeds (retrying while told busy).
TEST_F(HostileLoginTest, LoginFloodKeepsMemoryBoundedAndLetsALegitimateLoginThrough) {
  BrokerOptions opts;
  opts.argon2_memory_kib = 19456;
  opts.lockout_failures = 1000;
  // The flood and the legitimate login both come from 127.0.0.1: the
  // per-address limit (tested in AuthenticatorTest) would refuse the latter.
  opts.auth_extra = "  lockout_failures_per_source: 0\n";
  const long checks = 2 * std::max(1u, std::thread::hardware_concurrency());
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(opts));
  auto secret = broker().AddUser("bob", kBobPassword, {});
  ASSERT_TRUE(secret.ok()) << secret.status();
  auto channel = ApiChannel(broker());
  ASSERT_TRUE(GrpcLogin(channel, "nobody", "x", "1").error_code() ==
              grpc::StatusCode::UNAUTHENTICATED);  // warm the channel
  const long idle_kib = ProcStatusKib(broker().pid(), "VmRSS");
  ASSERT_GT(idle_kib, 0);

  std::atomic<int> done{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < 400; ++i) {
    flood.emplace_back([&, i] {
      (void)GrpcLogin(channel, "flood" + std::to_string(i % 50), "not-a-password-" + std::to_string(i),
                      "123456");
      ++done;
    });
  }
  // A legitimate login while the flood runs: retried while refused as busy.
  grpc::Status legit;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  int tries = 0;
  do {
    ++tries;
    legit = GrpcLogin(channel, "bob", kBobPassword, TotpCode(*secret, 0));
    if (legit.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  for (auto& t : flood) t.join();
  const long peak_kib = ProcStatusKib(broker().pid(), "VmHWM");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long after_kib = ProcStatusKib(broker().pid(), "VmRSS");
  std::printf("login flood: idle %ld KiB, peak %ld KiB, after %ld KiB, legit login after %d tries\n",
              idle_kib, peak_kib, after_kib, tries);
  EXPECT_TRUE(legit.ok()) << Describe(legit) << " after " << tries << " tries";
  EXPECT_EQ(done.load(), 400);
  // The running verifications' 19 MiB each, with room for gRPC's per-call
  // buffers and threads; unbounded, 400 calls took 1.3 GiB.
  const long peak_bound_kib = checks * 19 * 1024 * 3 / 2 + 128 * 1024;
  EXPECT_LT(peak_kib - idle_kib, peak_bound_kib)
      << "peak RSS grew by " << (peak_kib - idle_kib) << " KiB";
  EXPECT_LT(after_kib - idle_kib, 96 * 1024) << "RSS after the flood grew by "
                                             << (after_kib - idle_kib) << " KiB";
}

}  // namespace
}  // namespace portcullis::testing
