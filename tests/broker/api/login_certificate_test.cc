// AuthService.Login with ssh_public_key: the login certificate, the SSH
// fields of the response, its audit event, and refusals that leak nothing.
#include <gtest/gtest.h>

#include "auth/ca/ed25519_key.h"
#include "auth/ca/ssh_certificate.h"
#include "broker/common/encoding.h"
#include "broker/common/time_format.h"
#include "tests/broker/api/api_harness.h"

namespace portcullis::testing {
namespace {

constexpr char kRoles[] = R"yaml(
kind: role
name: ops
allow:
  targets: {site: a}
  logins: [maint]
  protocols: [ssh, vnc]
)yaml";

class LoginCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.ok()) << h_.env().init_status();
    auto& b = h_.broker();
    ASSERT_TRUE(b.roles().PutAll({store::RoleRecord{"ops", kRoles, 0}}).ok());
    b.role_table().Invalidate();
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("bob", {"ops"}));
    for (const auto& [name, protocol, site] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"rtu-02", "ssh", "a"}, {"rtu-01", "ssh", "a"}, {"hmi-01", "vnc", "a"},
             {"plc-09", "ssh", "b"}}) {
      store::TargetRecord t;
      t.name = name;
      t.address = "127.0.0.1:22";
      t.protocol = protocol;
      t.labels = {{"site", site}};
      ASSERT_TRUE(b.targets().Create(t).ok());
    }
    stub_ = v1::AuthService::NewStub(h_.channel());
  }

  grpc::Status Login(const std::string& user, const std::string& password,
                     const std::string& key_line, v1::LoginResponse* resp) {
    v1::LoginRequest req;
    req.set_user(user);
    req.set_password(password);
    req.set_totp_code(h_.env().CodeFor(user));
    req.set_ssh_public_key(key_line);
    return stub_->Login(ApiHarness::Ctx().get(), req, resp);
  }

  ApiHarness h_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
};

TEST_F(LoginCertificateTest, IssuesALoginCertificateForTheKey) {
  ca::Ed25519Key key = ca::Ed25519Key::Generate();
  v1::LoginResponse resp;
  grpc::Status st = Login("bob", kUserPassword, key.AuthorizedKeyLine("portcullis"), &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(resp.token().empty());

  const std::string prefix = "ssh-ed25519-cert-v01@openssh.com ";
  ASSERT_EQ(resp.ssh_certificate().substr(0, prefix.size()), prefix);
  std::string b64 = resp.ssh_certificate().substr(prefix.size());
  b64 = b64.substr(0, b64.find(' '));
  auto blob = Base64Decode(b64);
  ASSERT_TRUE(blob.ok());
  auto cert = ca::ParseCertificate(*blob);
  ASSERT_TRUE(cert.ok()) << cert.status();
  const int64_t now = h_.env().clock().NowUnix();
  EXPECT_EQ(cert->fields.subject_public_blob, key.PublicBlob());
  EXPECT_EQ(cert->fields.principals, std::vector<std::string>{"bob"});
  EXPECT_EQ(cert->fields.valid_before, static_cast<uint64_t>(now + 8 * 3600));  // default 8h
  EXPECT_TRUE(h_.broker().authority().VerifyLoginCertificate(*blob, "bob").ok());
  EXPECT_FALSE(h_.broker().authority().VerifyLoginCertificate(*blob, "alice").ok());

  EXPECT_EQ(resp.ssh_host_key(), h_.broker().ssh_host_key().AuthorizedKeyLine(""));
  EXPECT_EQ(resp.ssh_port(), 2222u);
  // Only ssh targets bob may see, sorted.
  EXPECT_EQ(std::vector<std::string>(resp.ssh_targets().begin(), resp.ssh_targets().end()),
            (std::vector<std::string>{"rtu-01", "rtu-02"}));

  auto rows = h_.Audit("ca.login_cert_issued");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event.actor, "bob");
  EXPECT_EQ(rows[0].event.subject, "bob");
  EXPECT_EQ(rows[0].event.details["serial"], cert->fields.serial);
  EXPECT_EQ(rows[0].event.details["key_fingerprint"], ca::Fingerprint(key.PublicBlob()));
  EXPECT_EQ(rows[0].event.details["valid_before"],
            FormatUtc(FromUnix(static_cast<int64_t>(cert->fields.valid_before))));
}

TEST_F(LoginCertificateTest, LifetimeAndPortComeFromTheConfig) {
  ApiHarness h("ssh:\n  login_cert_ttl: 30m\n");
  ASSERT_TRUE(h.ok()) << h.env().init_status();
  v1::LoginRequest req;
  req.set_user("alice");
  req.set_password(kAdminPassword);
  req.set_totp_code(h.env().CodeFor("alice"));
  req.set_ssh_public_key(ca::Ed25519Key::Generate().AuthorizedKeyLine(""));
  v1::LoginResponse resp;
  auto stub = v1::AuthService::NewStub(h.channel());
  grpc::Status st = stub->Login(ApiHarness::Ctx().get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto rows = h.Audit("ca.login_cert_issued");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event.details["valid_before"],
            FormatUtc(FromUnix(h.env().clock().NowUnix() + 1800)));
  // The admin role alone reaches no target.
  EXPECT_EQ(resp.ssh_targets_size(), 0);
}

TEST_F(LoginCertificateTest, NoKeyNoCertificate) {
  v1::LoginResponse resp;
  ASSERT_TRUE(Login("bob", kUserPassword, "", &resp).ok());
  EXPECT_TRUE(resp.ssh_certificate().empty());
  EXPECT_TRUE(resp.ssh_host_key().empty());
  EXPECT_EQ(resp.ssh_targets_size(), 0);
  EXPECT_TRUE(h_.Audit("ca.login_cert_issued").empty());
}

TEST_F(LoginCertificateTest, BadKeyIsInvalidArgumentOnlyAfterTheCredentials) {
  const std::vector<std::string> bad = {
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 me",  // not ed25519
      "ssh-ed25519 !!!",
      "ssh-ed25519-cert-v01@openssh.com AAAA",
      // A wire blob (valid UTF-8, as proto strings must be), not a line.
      std::string("\0\0\0\x0bssh-ed25519\0\0\0\x20", 19) + std::string(32, 'A'),
      ca::Ed25519Key::Generate().AuthorizedKeyLine("a") + "\nssh-ed25519 AAAA b",
  };
  // Wrong password: the same answer as without a key (dave, so that bob is
  // not locked out by the failures).
  ASSERT_NO_FATAL_FAILURE(h_.AddUser("dave"));
  for (const auto& line : bad) {
    v1::LoginResponse resp;
    grpc::Status st = Login("dave", "wrong password here", line, &resp);
    EXPECT_EQ(st.error_code(), grpc::UNAUTHENTICATED);
    EXPECT_EQ(st.error_message(), "invalid credentials");
  }
  // Right credentials; a TOTP code is single-use, so a new step each time.
  for (const auto& line : bad) {
    h_.env().clock().Advance(std::chrono::seconds(30));
    v1::LoginResponse resp;
    grpc::Status st = Login("bob", kUserPassword, line, &resp);
    EXPECT_EQ(st.error_code(), grpc::INVALID_ARGUMENT) << line << ": " << st.error_message();
    EXPECT_EQ(st.error_message().substr(0, 16), "ssh_public_key: ");
    EXPECT_TRUE(resp.token().empty());
  }
  EXPECT_TRUE(h_.Audit("ca.login_cert_issued").empty());
}

}  // namespace
}  // namespace portcullis::testing
