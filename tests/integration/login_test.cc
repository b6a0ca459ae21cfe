// Logging in and out through the CLI: success, indistinguishable failures,
// lockout, forged and revoked tokens.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "portcullis/v1/auth.grpc.pb.h"
#include "tests/integration/api_client.h"
#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";
constexpr char kInvalidCredentials[] = "portcullis: invalid credentials\n";

class LoginTest : public BrokerTest {
 protected:
  // `audit ls --json` as the admin, parsed.
  nlohmann::json AuditJson(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"audit", "ls", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Admin(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.out;
    return j.is_array() ? j : nlohmann::json::array();
  }
  // Number of audit events with these fields (details.reason if non-empty).
  static int Count(const nlohmann::json& events, const std::string& type,
                   const std::string& subject, const std::string& outcome,
                   const std::string& reason = "") {
    int n = 0;
    for (const auto& e : events) {
      if (e.value("type", "") != type || e.value("subject", "") != subject ||
          e.value("outcome", "") != outcome)
        continue;
      if (!reason.empty() &&
          (!e["details"].is_object() || e["details"].value("reason", "") != reason))
        continue;
      ++n;
    }
    return n;
  }
};

TEST_F(LoginTest, AdminLoginWhoamiAndPrivateLoginFile) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  CommandResult before = Admin({"whoami"});
  EXPECT_NE(before.exit_code, 0);
  EXPECT_THAT(before.err, HasSubstr("not logged in"));

  CommandResult login = broker().LoginAdmin();
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  EXPECT_THAT(login.out, HasSubstr("Logged in as alice (admin)"));

  CommandResult who = Admin({"whoami"});
  ASSERT_EQ(who.exit_code, 0) << Describe(who);
  EXPECT_THAT(who.out, HasSubstr("user:    alice\n"));
  EXPECT_THAT(who.out, HasSubstr("roles:   admin\n"));
  EXPECT_THAT(who.out, HasSubstr("admin:   yes\n"));

  const std::string home = broker().AdminHome();
  EXPECT_EQ(FileMode(home), 0700);
  EXPECT_EQ(FileMode(home + "/login.json"), 0600);
  EXPECT_EQ(FileMode(home + "/ca.pem"), 0600);
  auto saved = ReadWholeFile(home + "/login.json");
  ASSERT_TRUE(saved.ok());
  auto j = nlohmann::json::parse(*saved, nullptr, false);
  ASSERT_TRUE(j.is_object()) << *saved;
  EXPECT_EQ(j.value("user", ""), "alice");
  EXPECT_EQ(j.value("broker", ""), broker().address());
  EXPECT_THAT(j.value("token", ""), ::testing::StartsWith("pc1_"));
}

TEST_F(LoginTest, FailuresAreIndistinguishableAndAudited) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  const std::string secret = broker().admin_totp_secret();
  const std::string code = TotpCode(secret, 0);
  CommandResult ok = broker().Login(broker().AdminHome(), "alice", kAdminPassword, code);
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
  auto bob_secret = broker().AddUser("bob", kBobPassword, {});
  ASSERT_TRUE(bob_secret.ok()) << bob_secret.status();
  CommandResult disable = Admin({"users", "disable", "bob"});
  ASSERT_EQ(disable.exit_code, 0) << Describe(disable);

  struct Case {
    const char* name;
    std::string user, password, code;
  } cases[] = {
      {"replayed code", "alice", kAdminPassword, code},
      {"wrong password", "alice", "wrong-password-123456", TotpCode(secret, 1)},
      {"wrong code", "alice", kAdminPassword, WrongTotpCode(secret)},
      {"unknown user", "nobody-here", kAdminPassword, TotpCode(secret, 1)},
      {"disabled user", "bob", kBobPassword, TotpCode(*bob_secret, 0)},
  };
  for (const auto& c : cases) {
    const std::string home = broker().Home(std::string("fail-") + c.user);
    CommandResult r = broker().Login(home, c.user, c.password, c.code);
    EXPECT_EQ(r.exit_code, 1) << c.name << "\n" << Describe(r);
    EXPECT_EQ(r.err, kInvalidCredentials) << c.name;
    EXPECT_EQ(r.out, "") << c.name;
    EXPECT_EQ(FileMode(home + "/login.json"), -1) << c.name << ": a failed login saved a token";
  }

  nlohmann::json events = AuditJson({"--type", "auth."});
  EXPECT_EQ(Count(events, "auth.login", "alice", "success"), 1) << events.dump(2);
  EXPECT_EQ(Count(events, "auth.mfa_failure", "alice", "failure", "verification code replayed"), 1)
      << events.dump(2);
  EXPECT_EQ(Count(events, "auth.login", "alice", "failure", "wrong password"), 1)
      << events.dump(2);
  EXPECT_EQ(Count(events, "auth.mfa_failure", "alice", "failure", "wrong verification code"), 1)
      << events.dump(2);
  EXPECT_EQ(Count(events, "auth.login", "nobody-here", "failure", "unknown user"), 1)
      << events.dump(2);
  EXPECT_EQ(Count(events, "auth.login", "bob", "failure", "user disabled"), 1) << events.dump(2);
  for (const auto& e : events) {
    if (e.value("outcome", "") == "failure") {
      EXPECT_THAT(e.value("source", ""), HasSubstr("127.0.0.1")) << e.dump();
    }
  }
}

TEST_F(LoginTest, LockoutRefusesTheCorrectPasswordAndCode) {
  BrokerOptions opts;
  opts.lockout_failures = 3;
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(opts));
  auto bob_secret = broker().AddUser("bob", kBobPassword, {});
  ASSERT_TRUE(bob_secret.ok()) << bob_secret.status();
  const std::string bob_home = broker().Home("bob");

  for (int i = 0; i < 3; ++i) {
    CommandResult r = broker().Login(bob_home, "bob", "not-bobs-password-" + std::to_string(i),
                                     TotpCode(*bob_secret, 0));
    EXPECT_EQ(r.err, kInvalidCredentials) << i;
  }
  CommandResult right = broker().Login(bob_home, "bob", kBobPassword, TotpCode(*bob_secret, 0));
  EXPECT_EQ(right.exit_code, 1) << Describe(right);
  EXPECT_EQ(right.err, kInvalidCredentials);
  EXPECT_EQ(FileMode(bob_home + "/login.json"), -1);

  nlohmann::json events = AuditJson({"--type", "auth."});
  EXPECT_EQ(Count(events, "auth.lockout", "bob", "locked"), 1) << events.dump(2);
  EXPECT_EQ(Count(events, "auth.login", "bob", "failure", "account locked"), 1) << events.dump(2);
  EXPECT_EQ(Count(events, "auth.login", "bob", "success"), 0) << events.dump(2);

  CommandResult users = Admin({"users", "ls"});
  ASSERT_EQ(users.exit_code, 0) << Describe(users);
  EXPECT_THAT(users.out, ::testing::ContainsRegex("bob +locked"));
  // The lockout is per user: the admin can still log in (next step's code).
  CommandResult alice_again = broker().LoginAdmin(1);
  EXPECT_EQ(alice_again.exit_code, 0) << Describe(alice_again);
}

TEST_F(LoginTest, ForgedAndRevokedTokensAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  const std::string login_path = broker().AdminHome() + "/login.json";
  auto original = ReadWholeFile(login_path);
  ASSERT_TRUE(original.ok());
  auto j = nlohmann::json::parse(*original);
  const std::string token = j["token"];

  // Forged: the last character of the token changed.
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  j["token"] = forged;
  ASSERT_TRUE(WriteWholeFile(login_path, j.dump(), 0600).ok());
  CommandResult r = Admin({"whoami"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("expired or revoked"));
  EXPECT_THAT(r.err, HasSubstr("portcullis login"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr(forged)));

  // The genuine file works (so the refusal above was about the token).
  ASSERT_TRUE(WriteWholeFile(login_path, *original, 0600).ok());
  r = Admin({"whoami"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  // Revoked: log out, then reuse a copy of the old login file.
  r = Admin({"logout"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(FileMode(login_path), -1) << "logout left the token on disk";
  ASSERT_TRUE(WriteWholeFile(login_path, *original, 0600).ok());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"whoami"}, {"targets", "ls"}, {"audit", "ls"}, {"ca", "export", "--ssh"}}) {
    r = Admin(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("expired or revoked")) << args[0];
    EXPECT_EQ(r.out, "") << args[0];
  }

  // The logout was audited.
  r = broker().LoginAdmin(1);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Admin({"audit", "ls", "--json", "--type", "auth.logout"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto events = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(events.is_array()) << r.out;
  EXPECT_EQ(events.size(), 1u) << r.out;
}

// Wall time of one Login RPC, in microseconds.
int64_t TimeLogin(v1::AuthService::Stub& stub, const std::string& user,
                  const std::string& password) {
  v1::LoginRequest req;
  req.set_user(user);
  req.set_password(password);
  req.set_totp_code("000000");
  v1::LoginResponse resp;
  auto ctx = ApiContext();
  auto start = std::chrono::steady_clock::now();
  grpc::Status st = stub.Login(ctx.get(), req, &resp);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  return us;
}

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// No user enumeration by timing: a wrong password for an existing user and
// any password for a user that does not exist cost the same Argon2id work,
// also when the config's Argon2 costs differ from the library defaults (the
// fixture runs with 8 MiB / 1 pass).
TEST_F(LoginTest, UnknownUserTakesAsLongAsAWrongPassword) {
  BrokerOptions opts;
  opts.lockout_failures = 1000;
  opts.auth_extra = "  lockout_failures_per_source: 0\n";  // every attempt from 127.0.0.1
  ASSERT_NO_FATAL_FAILURE(StartBroker(opts));
  auto stub = v1::AuthService::NewStub(ApiChannel(broker()));
  TimeLogin(*stub, "alice", "warm-up-password-1");  // channel set up
  std::vector<int64_t> known, unknown;
  for (int i = 0; i < 7; ++i) {
    known.push_back(TimeLogin(*stub, "alice", "wrong-password-" + std::to_string(i)));
    unknown.push_back(TimeLogin(*stub, "nobody" + std::to_string(i), "wrong-password-x"));
  }
  const double k = static_cast<double>(Median(known));
  const double u = static_cast<double>(Median(unknown));
  EXPECT_LT(u / k, 2.0) << "unknown user " << u << " us vs wrong password " << k << " us";
  EXPECT_LT(k / u, 2.0) << "unknown user " << u << " us vs wrong password " << k << " us";
}

TEST_F(LoginTest, ExpiredTokenIsRefused) {
  BrokerOptions opts;
  opts.token_ttl = "2s";
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(opts));
  CommandResult r = Admin({"whoami"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  r = Admin({"whoami"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("expired or revoked"));
}

TEST_F(LoginTest, DisablingAUserRevokesTheirTokens) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  auto bob_secret = broker().AddUser("bob", kBobPassword, {});
  ASSERT_TRUE(bob_secret.ok()) << bob_secret.status();
  const std::string bob_home = broker().Home("bob");
  CommandResult r = broker().Login(bob_home, "bob", kBobPassword, TotpCode(*bob_secret, 0));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ASSERT_EQ(broker().Cli(bob_home, {"whoami"}).exit_code, 0);

  r = Admin({"users", "disable", "bob"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = broker().Cli(bob_home, {"whoami"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("expired or revoked"));
  // Re-enabling does not bring the old token back.
  r = Admin({"users", "enable", "bob"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = broker().Cli(bob_home, {"whoami"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  // An admin cannot lock themselves out.
  r = Admin({"users", "disable", "alice"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("cannot disable yourself"));
}

}  // namespace
}  // namespace portcullis::testing
