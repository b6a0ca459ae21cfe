#include "broker/core/authenticator.h"
#include "broker/daemon/maintenance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "tests/broker/core/broker_test_env.h"

namespace portcullis::core {
namespace {

using testing::BrokerEnv;
using testing::kAdminPassword;

SecretBytes Pw(std::string_view s) { return *SecretBytes::FromString(s); }

// The identity a login of `user` would establish (for minting tokens).
Identity IdOf(Broker& b, std::string_view user) { return IdentityOf(*b.users().Get(user)); }

int CountEvents(Broker& b, const std::string& type, const std::string& outcome) {
  audit::AuditFilter f;
  f.type_prefix = type;
  auto rows = b.audit().List(f);
  int n = 0;
  for (const auto& r : *rows) n += r.event.outcome == outcome;
  return n;
}

TEST(AuthenticatorTest, PasswordAndTotpSucceedsAndIsAudited) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  auto id = env.broker().authenticator().PasswordAndTotp("alice", Pw(kAdminPassword),
                                                         env.CodeFor("alice"), "test", "grpc");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user, "alice");
  EXPECT_TRUE(id->admin);
  EXPECT_EQ(CountEvents(env.broker(), "auth.login", "success"), 1);
}

TEST(AuthenticatorTest, AllFailuresLookTheSame) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  auto& a = env.broker().authenticator();
  std::string code = env.CodeFor("alice");
  auto unknown = a.PasswordAndTotp("mallory", Pw(kAdminPassword), code, "t", "grpc");
  auto wrong_pw = a.PasswordAndTotp("alice", Pw("wrong password!!"), code, "t", "grpc");
  auto wrong_code = a.PasswordAndTotp("alice", Pw(kAdminPassword), "000000", "t", "grpc");
  auto bad_code = a.PasswordAndTotp("alice", Pw(kAdminPassword), "abc", "t", "grpc");
  for (const auto* r : {&unknown, &wrong_pw, &wrong_code, &bad_code}) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(std::string(r->status().message()), kInvalidCredentials);
  }
  EXPECT_EQ(CountEvents(env.broker(), "auth.login", "failure"), 2);
  EXPECT_EQ(CountEvents(env.broker(), "auth.mfa_failure", "failure"), 2);
}

TEST(AuthenticatorTest, OversizedRequestIsAuditedAndRefusedTheSameWay) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  auto r = env.broker().authenticator().PasswordAndTotp(std::string(5000, 'a'), Pw("x"), "1", "t",
                                                        "grpc");
  EXPECT_EQ(std::string(r.status().message()), kInvalidCredentials);
  auto long_code = env.broker().authenticator().PasswordAndTotp("alice", Pw(kAdminPassword),
                                                                std::string(100, '1'), "t", "grpc");
  EXPECT_EQ(std::string(long_code.status().message()), kInvalidCredentials);
  EXPECT_EQ(CountEvents(env.broker(), "auth.login", "failure"), 2);
}

TEST(AuthenticatorTest, ReplayedCodeRefused) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  auto& a = env.broker().authenticator();
  std::string code = env.CodeFor("alice");
  ASSERT_TRUE(a.PasswordAndTotp("alice", Pw(kAdminPassword), code, "t", "grpc").ok());
  auto again = a.PasswordAndTotp("alice", Pw(kAdminPassword), code, "t", "grpc");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnauthenticated);
  // An earlier code in the window is refused too once a later one was used.
  auto earlier = a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice", -1), "t",
                                   "grpc");
  EXPECT_FALSE(earlier.ok());
  // The next step's code still works.
  EXPECT_TRUE(
      a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice", 1), "t", "grpc").ok());
}

TEST(AuthenticatorTest, LockoutAfterFailuresThenExpires) {
  BrokerEnv env("  lockout_failures: 3\n  lockout_window: 10m\n");
  ASSERT_TRUE(env.ok()) << env.init_status();
  auto& a = env.broker().authenticator();
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(a.PasswordAndTotp("alice", Pw("wrong password!!"), "123456", "t", "grpc").ok());
  }
  EXPECT_TRUE(a.IsLocked("alice"));
  EXPECT_EQ(CountEvents(env.broker(), "auth.lockout", "locked"), 1);
  // Correct credentials are refused while locked, with the same message.
  auto locked = a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice"), "t", "grpc");
  EXPECT_EQ(std::string(locked.status().message()), kInvalidCredentials);
  env.clock().Advance(std::chrono::minutes(11));
  EXPECT_FALSE(a.IsLocked("alice"));
  EXPECT_TRUE(
      a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice"), "t", "grpc").ok());
}

TEST(AuthenticatorTest, UnknownUsersAreLockedOutToo) {
  BrokerEnv env("  lockout_failures: 2\n");
  ASSERT_TRUE(env.ok());
  auto& a = env.broker().authenticator();
  EXPECT_FALSE(a.PasswordAndTotp("ghost", Pw("whatever-password"), "1", "t", "grpc").ok());
  EXPECT_FALSE(a.PasswordAndTotp("ghost", Pw("whatever-password"), "1", "t", "grpc").ok());
  EXPECT_TRUE(a.IsLocked("ghost"));
}

TEST(AuthenticatorTest, DisabledUserRefused) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  auto pw = Pw("bob password 12345");
  ASSERT_TRUE(CreateUser(env.broker(), "bob", pw, {}, Actor{"alice", "t"}).ok());
  ASSERT_TRUE(env.broker().users().SetDisabled("bob", true).ok());
  auto r = env.broker().authenticator().PasswordAndTotp("bob", pw, env.CodeFor("bob"), "t", "ssh");
  EXPECT_EQ(std::string(r.status().message()), kInvalidCredentials);
}

// Audit rows of `type` whose details.reason is `reason`.
int CountReason(Broker& b, const std::string& type, const std::string& reason) {
  audit::AuditFilter f;
  f.type_prefix = type;
  auto rows = b.audit().List(f);
  int n = 0;
  for (const auto& r : *rows) n += r.event.details.value("reason", "") == reason;
  return n;
}

// `n` six-digit codes, none of them valid for `user` now (steps -1..+1).
std::vector<std::string> WrongCodes(BrokerEnv& env, const std::string& user, int n) {
  std::set<std::string> valid = {env.CodeFor(user, -1), env.CodeFor(user), env.CodeFor(user, 1)};
  std::vector<std::string> out;
  for (int i = 0; static_cast<int>(out.size()) < n; ++i) {
    std::string code = std::to_string(100000 + i * 7919);
    if (!valid.count(code)) out.push_back(code);
  }
  return out;
}

// 60 parallel attempts with the right password and 60 different wrong codes:
// exactly `lockout_failures` codes are evaluated, every other attempt is
// refused before its code is looked at (locked, or busy), and afterwards
// the right code is refused too.
TEST(AuthenticatorTest, ParallelWrongCodesGetAtMostTheLimitEvaluated) {
  BrokerEnv env("  lockout_failures: 5\n  max_concurrent_logins: 8\n");
  ASSERT_TRUE(env.ok()) << env.init_status();
  auto& a = env.broker().authenticator();
  const auto codes = WrongCodes(env, "alice", 60);
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (const auto& code : codes) {
    threads.emplace_back([&, code] {
      succeeded += a.PasswordAndTotp("alice", Pw(kAdminPassword), code, "t", "grpc").ok();
    });
  }
  for (auto& t : threads) t.join();
  auto& b = env.broker();
  EXPECT_EQ(succeeded.load(), 0);
  EXPECT_EQ(CountReason(b, "auth.mfa_failure", "wrong verification code"), 5);
  EXPECT_EQ(CountReason(b, "auth.login", "account locked") +
                CountReason(b, "auth.login", "broker busy"),
            55);
  EXPECT_EQ(CountEvents(b, "auth.lockout", "locked"), 1);
  EXPECT_TRUE(a.IsLocked("alice"));
  EXPECT_EQ(*b.users().AuthAttemptsInWindow("alice", env.clock().NowUnix(), 900), 5);
  auto right = a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice"), "t", "grpc");
  EXPECT_EQ(std::string(right.status().message()), kInvalidCredentials);
}

// The same over the public key + code path (SSH).
TEST(AuthenticatorTest, ParallelKeyAndWrongCodesGetAtMostTheLimitEvaluated) {
  BrokerEnv env("  lockout_failures: 3\n");
  ASSERT_TRUE(env.ok()) << env.init_status();
  auto& a = env.broker().authenticator();
  const auto codes = WrongCodes(env, "alice", 30);
  std::vector<std::thread> threads;
  for (const auto& code : codes) {
    threads.emplace_back([&, code] { (void)a.KeyAndTotp("alice", "SHA256:k", code, "t", "ssh"); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(CountReason(env.broker(), "auth.mfa_failure", "wrong verification code"), 3);
  EXPECT_EQ(CountReason(env.broker(), "auth.login", "account locked"), 27);
  EXPECT_FALSE(a.KeyAndTotp("alice", "SHA256:k", env.CodeFor("alice"), "t", "ssh").ok());
}

// Fewer parallel failures than the limit are each counted, exactly.
TEST(AuthenticatorTest, ParallelFailuresBelowTheLimitAreCountedExactly) {
  BrokerEnv env("  lockout_failures: 10\n");
  ASSERT_TRUE(env.ok()) << env.init_status();
  auto& a = env.broker().authenticator();
  std::vector<std::thread> threads;
  for (int i = 0; i < 7; ++i) {
    threads.emplace_back(
        [&] { (void)a.PasswordAndTotp("alice", Pw("wrong password!!"), "123456", "t", "grpc"); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(*env.broker().users().AuthAttemptsInWindow("alice", env.clock().NowUnix(), 900), 7);
  EXPECT_FALSE(a.IsLocked("alice"));
  EXPECT_EQ(CountReason(env.broker(), "auth.login", "wrong password"), 7);
  EXPECT_TRUE(
      a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice"), "t", "grpc").ok());
  EXPECT_EQ(*env.broker().users().AuthAttemptsInWindow("alice", env.clock().NowUnix(), 900), 0);
}

TEST(ConcurrencyLimitTest, BoundsHoldersAndWaiters) {
  ConcurrencyLimit limit(1, 0, std::chrono::milliseconds(50));
  ASSERT_TRUE(limit.Acquire());
  EXPECT_FALSE(limit.Acquire());  // no room to wait: refused at once
  limit.Release();
  EXPECT_TRUE(limit.Acquire());
  limit.Release();
  ConcurrencyLimit queued(1, 1, std::chrono::milliseconds(5000));
  ASSERT_TRUE(queued.Acquire());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    queued.Release();
  });
  EXPECT_TRUE(queued.Acquire());  // waited for the slot
  releaser.join();
  queued.Release();
}

// A login certificate is accepted only for the user row and login
// generation it was issued for.
TEST(AuthenticatorTest, LoginCertificateBindingIsChecked) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  auto& b = env.broker();
  auto& a = b.authenticator();
  auto pw = Pw("frank password 12345");
  ASSERT_TRUE(CreateUser(b, "frank", pw, {}, Actor{"alice", "t"}).ok());
  Identity old = IdOf(b, "frank");
  EXPECT_EQ(old.login_generation, 1);
  EXPECT_TRUE(a.LoginCertificate("frank", old.user_id, 1, 7, "t", "ssh").ok());
  EXPECT_FALSE(a.LoginCertificate("frank", old.user_id, 2, 7, "t", "ssh").ok());
  EXPECT_FALSE(a.LoginCertificate("frank", 0, 0, 7, "t", "ssh").ok());  // unbound
  EXPECT_EQ(CountReason(b, "auth.login", "login certificate revoked"), 2);
  // disable + enable
  ASSERT_TRUE(b.users().SetDisabled("frank", true).ok());
  ASSERT_TRUE(b.users().SetDisabled("frank", false).ok());
  EXPECT_FALSE(a.LoginCertificate("frank", old.user_id, 1, 7, "t", "ssh").ok());
  EXPECT_FALSE(a.LoginBindingIsCurrent("frank", old.user_id, 1, "t", "ssh", false));
  Identity enabled = IdOf(b, "frank");
  EXPECT_TRUE(a.LoginBindingIsCurrent("frank", enabled.user_id, 2, "t", "ssh", false));
  // reset
  auto uri = ResetUser(b, "frank", Pw("frank new password 678"), Actor{"alice", "t"}, nullptr);
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_NE(uri->find("otpauth://totp/Portcullis:frank?secret="), std::string::npos);
  EXPECT_FALSE(a.LoginCertificate("frank", enabled.user_id, 2, 7, "t", "ssh").ok());
  EXPECT_TRUE(a.LoginCertificate("frank", enabled.user_id, 3, 7, "t", "ssh").ok());
  // rm + add
  ASSERT_TRUE(b.users().Delete("frank").ok());
  ASSERT_TRUE(CreateUser(b, "frank", pw, {}, Actor{"alice", "t"}).ok());
  EXPECT_FALSE(a.LoginCertificate("frank", old.user_id, 1, 7, "t", "ssh").ok());
  EXPECT_FALSE(a.LoginCertificate("frank", enabled.user_id, 3, 7, "t", "ssh").ok());
  EXPECT_TRUE(a.LoginCertificate("frank", IdOf(b, "frank").user_id, 1, 7, "t", "ssh").ok());
}

// Tokens carry the same binding: reset, disable + enable and rm + add each
// end the tokens issued before.
TEST(TokenManagerTest, TokensEndWithTheirUsersGeneration) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  auto& b = env.broker();
  auto pw = Pw("frank password 12345");
  ASSERT_TRUE(CreateUser(b, "frank", pw, {}, Actor{"alice", "t"}).ok());
  auto issue = [&] { return std::string(b.tokens().Issue(IdOf(b, "frank"))->token.Reveal()); };
  std::string t1 = issue();
  ASSERT_TRUE(b.tokens().Validate(t1).ok());
  ASSERT_TRUE(b.users().SetDisabled("frank", true).ok());
  ASSERT_TRUE(b.users().SetDisabled("frank", false).ok());
  EXPECT_FALSE(b.tokens().Validate(t1).ok());
  std::string t2 = issue();
  ASSERT_TRUE(b.tokens().Validate(t2).ok());
  ASSERT_TRUE(ResetUser(b, "frank", Pw("frank new password 678"), Actor{"a", "t"}, nullptr).ok());
  EXPECT_FALSE(b.tokens().Validate(t2).ok());
  // A token minted for the old row does not work for a new frank, even if
  // it was written after the delete (a login racing `users rm`).
  Identity old = IdOf(b, "frank");
  ASSERT_TRUE(b.users().Delete("frank").ok());
  ASSERT_TRUE(CreateUser(b, "frank", pw, {}, Actor{"alice", "t"}).ok());
  auto late = b.tokens().Issue(old);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_FALSE(b.tokens().Validate(late->token.Reveal()).ok());
  EXPECT_TRUE(b.tokens().Validate(issue()).ok());
}

TEST(TokenManagerTest, IssueValidateExpireRevoke) {
  BrokerEnv env("  token_ttl: 1h\n");
  ASSERT_TRUE(env.ok());
  auto& tm = env.broker().tokens();
  auto t = tm.Issue(IdOf(env.broker(), "alice"));
  ASSERT_TRUE(t.ok());
  std::string token(t->token.Reveal());
  EXPECT_EQ(token.rfind("pc1_", 0), 0u);
  EXPECT_GE(token.size(), 4u + 43u);  // 256 bits base64url
  auto info = tm.Validate(token);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->identity.admin);
  // Only the hash is stored.
  auto stored = env.broker().token_store().Get(TokenManager::HashToken(token));
  ASSERT_TRUE(stored.ok());
  EXPECT_NE(stored->token_hash, token);
  // Forged: one character changed.
  std::string forged = token;
  forged[10] = forged[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(tm.Validate(forged).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(tm.Validate("").ok());
  // Expired.
  env.clock().Advance(std::chrono::minutes(61));
  EXPECT_FALSE(tm.Validate(token).ok());
  // Revoked.
  auto t2 = tm.Issue(IdOf(env.broker(), "alice"));
  std::string token2(t2->token.Reveal());
  ASSERT_TRUE(tm.Validate(token2).ok());
  ASSERT_TRUE(tm.Revoke(TokenManager::HashToken(token2)).ok());
  EXPECT_FALSE(tm.Validate(token2).ok());
}

TEST(TokenManagerTest, DisabledUsersTokensStopWorking) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE(CreateUser(env.broker(), "bob", Pw("bob password 12345"), {}, Actor{"a", "t"}).ok());
  auto t = env.broker().tokens().Issue(IdOf(env.broker(), "bob"));
  std::string token(t->token.Reveal());
  ASSERT_TRUE(env.broker().tokens().Validate(token).ok());
  ASSERT_TRUE(env.broker().users().SetDisabled("bob", true).ok());
  EXPECT_FALSE(env.broker().tokens().Validate(token).ok());
}

TEST(UserAdminTest, ValidatesNamesRolesAndPasswords) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  auto& b = env.broker();
  Actor a{"alice", "t"};
  EXPECT_FALSE(CreateUser(b, "Bob", Pw("bob password 12345"), {}, a).ok());
  EXPECT_FALSE(CreateUser(b, "bob:x", Pw("bob password 12345"), {}, a).ok());
  EXPECT_FALSE(CreateUser(b, "bob@x", Pw("bob password 12345"), {}, a).ok());
  EXPECT_FALSE(CreateUser(b, "bob", Pw("short"), {}, a).ok());
  auto unknown_role = CreateUser(b, "bob", Pw("bob password 12345"), {"nosuch"}, a);
  EXPECT_NE(unknown_role.status().message().find("unknown role 'nosuch'"), std::string::npos);
  auto ok = CreateUser(b, "bob", Pw("bob password 12345"), {}, a);
  ASSERT_TRUE(ok.ok());
  EXPECT_NE(ok->otpauth_uri.find("otpauth://totp/Portcullis:bob?secret="), std::string::npos);
  EXPECT_EQ(CreateUser(b, "bob", Pw("bob password 12345"), {}, a).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(InitTest, RefusesToRunTwiceAndPrintsEnrolment) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  EXPECT_NE(env.init_output().find("otpauth://totp/Portcullis:alice?secret="), std::string::npos);
  EXPECT_NE(env.init_output().find("portcullis-user-ca"), std::string::npos);
  std::ostringstream out;
  FakeClock clock;
  auto again = daemon::RunInit({env.config_path(), "alice"}, Pw(kAdminPassword), &clock, out);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace portcullis::core

namespace portcullis::daemon {
namespace {

TEST(MaintenanceTest, PurgesExpiredTokensAndOldFailures) {
  testing::BrokerEnv env("  token_ttl: 1h\n  lockout_window: 10m\n");
  ASSERT_TRUE(env.ok());
  auto& b = env.broker();
  auto t = b.tokens().Issue(core::IdentityOf(*b.users().Get("alice")));
  ASSERT_TRUE(t.ok());
  std::string hash = core::TokenManager::HashToken(t->token.Reveal());
  const int64_t window = 600;
  ASSERT_TRUE(b.users().CountAuthAttempt("ghost", env.clock().NowUnix(), window, 5).ok());
  Maintenance::RunOnce(b);  // nothing is old yet
  EXPECT_TRUE(b.token_store().Get(hash).ok());
  EXPECT_EQ(*b.users().AuthAttemptsInWindow("ghost", env.clock().NowUnix(), window), 1);
  env.clock().Advance(std::chrono::hours(2));
  Maintenance::RunOnce(b);
  EXPECT_EQ(b.token_store().Get(hash).status().code(), absl::StatusCode::kNotFound);
  // Purged, not only lapsed: a window reaching back to 1970 finds nothing.
  EXPECT_EQ(*b.users().AuthAttemptsInWindow("ghost", env.clock().NowUnix(), int64_t{1} << 40), 0);
}

}  // namespace
}  // namespace portcullis::daemon

namespace portcullis::core {
namespace {

// One address trying many user names (each below its own lockout) is
// refused after auth.lockout_failures_per_source failures in the window,
// whatever port it comes from and even with right credentials; other
// addresses and the users themselves are not affected; it lapses.
TEST(AuthenticatorTest, AnAddressWithTooManyFailuresIsRefusedWithoutLockingUsersOut) {
  BrokerEnv env("  lockout_failures_per_source: 4\n");
  ASSERT_TRUE(env.ok()) << env.init_status();
  auto& a = env.broker().authenticator();
  for (int i = 0; i < 4; ++i) {
    auto r = a.PasswordAndTotp("spray" + std::to_string(i), Pw("guess guess guess"), "123456",
                               "ipv4:127.0.0.9:4000" + std::to_string(i), "grpc");
    EXPECT_FALSE(r.ok());
  }
  EXPECT_EQ(CountEvents(env.broker(), "auth.source_lockout", "locked"), 1);
  // Right credentials, same address (SSH's spelling, another port): refused.
  auto blocked = a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice"),
                                   "127.0.0.9:50000", "ssh");
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(std::string(blocked.status().message()), std::string(kInvalidCredentials));
  audit::AuditFilter f;
  f.type_prefix = "auth.login";
  auto rows = env.broker().audit().List(f);
  ASSERT_TRUE(rows.ok());
  bool seen = false;
  for (const auto& r : *rows)
    seen = seen || (r.event.subject == "alice" && r.event.details.value("reason", "") == "source locked");
  EXPECT_TRUE(seen);
  EXPECT_FALSE(a.IsLocked("alice"));  // nothing was counted against alice
  // Another address logs in as alice.
  auto other = a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice"),
                                 "ipv4:127.0.0.10:41000", "grpc");
  ASSERT_TRUE(other.ok()) << other.status();
  // After the window the address may try again.
  env.clock().Advance(std::chrono::minutes(16));
  auto later = a.PasswordAndTotp("alice", Pw(kAdminPassword), env.CodeFor("alice"),
                                 "ipv4:127.0.0.9:40009", "grpc");
  EXPECT_TRUE(later.ok()) << later.status();
}

TEST(SourceThrottleTest, CountsByHostAndStaysBounded) {
  EXPECT_EQ(SourceThrottle::HostOf("ipv4:127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(SourceThrottle::HostOf("ipv6:[::1]:5000"), "::1");
  EXPECT_EQ(SourceThrottle::HostOf("ipv6:%5B::1%5D:5000"), "::1");
  EXPECT_EQ(SourceThrottle::HostOf("127.0.0.1:22"), "127.0.0.1");
  EXPECT_EQ(SourceThrottle::HostOf("[::1]:22"), "::1");
  EXPECT_EQ(SourceThrottle::HostOf("::1"), "::1");
  EXPECT_EQ(SourceThrottle::HostOf("test"), "test");
  SourceThrottle t(3, std::chrono::seconds(60));
  EXPECT_EQ(t.Record("127.0.0.1:1", 100), 1);
  EXPECT_EQ(t.Record("127.0.0.1:2", 110), 2);
  EXPECT_FALSE(t.Blocked("127.0.0.1:3", 120));
  EXPECT_EQ(t.Record("ipv4:127.0.0.1:4", 120), 3);
  EXPECT_TRUE(t.Blocked("127.0.0.1:5", 121));
  EXPECT_FALSE(t.Blocked("127.0.0.2:5", 121));
  EXPECT_FALSE(t.Blocked("127.0.0.1:5", 161));  // the first failure lapsed
  SourceThrottle off(0, std::chrono::seconds(60));
  EXPECT_EQ(off.Record("127.0.0.1:1", 1), 0);
  EXPECT_FALSE(off.Blocked("127.0.0.1:1", 1));
  // Many addresses: memory stays bounded.
  SourceThrottle many(5, std::chrono::seconds(600));
  for (size_t i = 0; i < SourceThrottle::kMaxSources + 100; ++i)
    many.Record("127." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                    std::to_string(i & 255),
                static_cast<int64_t>(i));
  EXPECT_LE(many.tracked(), SourceThrottle::kMaxSources);
}

}  // namespace
}  // namespace portcullis::core
