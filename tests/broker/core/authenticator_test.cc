#include "broker/core/authenticator.h"
#include "broker/daemon/maintenance.h"

#include <gtest/gtest.h>

#include "tests/broker/core/broker_test_env.h"

namespace portcullis::core {
namespace {

using testing::BrokerEnv;
using testing::kAdminPassword;

SecretBytes Pw(std::string_view s) { return *SecretBytes::FromString(s); }

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

TEST(TokenManagerTest, IssueValidateExpireRevoke) {
  BrokerEnv env("  token_ttl: 1h\n");
  ASSERT_TRUE(env.ok());
  auto& tm = env.broker().tokens();
  auto t = tm.Issue("alice");
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
  auto t2 = tm.Issue("alice");
  std::string token2(t2->token.Reveal());
  ASSERT_TRUE(tm.Validate(token2).ok());
  ASSERT_TRUE(tm.Revoke(TokenManager::HashToken(token2)).ok());
  EXPECT_FALSE(tm.Validate(token2).ok());
}

TEST(TokenManagerTest, DisabledUsersTokensStopWorking) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE(CreateUser(env.broker(), "bob", Pw("bob password 12345"), {}, Actor{"a", "t"}).ok());
  auto t = env.broker().tokens().Issue("bob");
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
  auto t = b.tokens().Issue("alice");
  ASSERT_TRUE(t.ok());
  std::string hash = core::TokenManager::HashToken(t->token.Reveal());
  ASSERT_TRUE(b.users().RecordAuthFailure("ghost", env.clock().NowUnix()).ok());
  Maintenance::RunOnce(b);  // nothing is old yet
  EXPECT_TRUE(b.token_store().Get(hash).ok());
  EXPECT_EQ(*b.users().CountAuthFailuresSince("ghost", 0), 1);
  env.clock().Advance(std::chrono::hours(2));
  Maintenance::RunOnce(b);
  EXPECT_EQ(b.token_store().Get(hash).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*b.users().CountAuthFailuresSince("ghost", 0), 0);
}

}  // namespace
}  // namespace portcullis::daemon
