// `portcullis login` for the SSH access path: the key it makes once, the
// login certificate (checked with ssh-keygen), known_hosts pinning the
// broker's host key, an ssh_config that `ssh -G` reads as intended, and a
// bad ssh_public_key refused only after the credentials.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/ca/ed25519_key.h"
#include "broker/common/clock.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/auth.grpc.pb.h"
#include "tests/integration/api_client.h"
#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";

constexpr char kRoleYaml[] = R"(kind: role
name: field
allow:
  targets: {site: a}
  logins: [maint]
  protocols: [ssh, vnc]
)";

std::string Line(const std::string& text, size_t n = 0) {
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) start = text.find('\n', start) + 1;
  return text.substr(start, text.find('\n', start) - start);
}

class SshLoginTest : public BrokerTest {
 protected:
  // A broker with its SSH port configured, a role, four targets (two ssh
  // targets bob may reach) and bob.
  void SetUpBroker() {
    BrokerOptions opts;
    opts.ssh_port = PickFreePort();
    ASSERT_NE(opts.ssh_port, 0);
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(opts));
    const std::string role = broker().Join("field.yaml");
    ASSERT_TRUE(WriteWholeFile(role, kRoleYaml).ok());
    ASSERT_EQ(Admin({"roles", "apply", "-f", role}).exit_code, 0);
    for (const auto& [name, proto, site] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"rtu-02", "ssh", "a"}, {"rtu-01", "ssh", "a"}, {"hmi-01", "vnc", "a"},
             {"plc-09", "ssh", "b"}}) {
      // Port 1: nothing listens, so a session gets as far as the target.
      CommandResult r = Admin({"targets", "add", name, "--address", "127.0.0.1:1", "--protocol",
                               proto, "--label", "site=" + site});
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
    }
    auto secret = broker().AddUser("bob", kBobPassword, {"field"});
    ASSERT_TRUE(secret.ok()) << secret.status();
    bob_secret_ = *secret;
  }
  std::string Bob() const { return broker_->Home("bob"); }
  std::string BobFile(const std::string& name) const { return Bob() + "/" + name; }
  CommandResult LoginBob(int step, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"login",  "--broker", broker().address(), "--ca",
                                     broker().ca_pem_path(), "--user", "bob", "--totp",
                                     TotpCode(bob_secret_, step), "--password-stdin"};
    args.insert(args.end(), extra.begin(), extra.end());
    return broker().Cli(Bob(), args, std::string(kBobPassword) + "\n");
  }
  std::string Read(const std::string& path) {
    auto text = ReadWholeFile(path);
    EXPECT_TRUE(text.ok()) << path;
    return text.ok() ? *text : "";
  }
  std::string DataKeyLine(const std::string& file) {
    auto key = ca::Ed25519Key::LoadPrivateFile(broker().data_dir() + "/keys/" + file);
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? key->AuthorizedKeyLine("") : "";
  }

  // The ca.login_cert_issued events about `user`.
  nlohmann::json CertAudit(const std::string& user) {
    CommandResult audit = Admin({"audit", "ls", "--json", "--type", "ca.login_cert_issued"});
    EXPECT_EQ(audit.exit_code, 0) << Describe(audit);
    auto all = nlohmann::json::parse(audit.out, nullptr, false);
    nlohmann::json out = nlohmann::json::array();
    if (!all.is_array()) return out;
    for (const auto& e : all) {
      if (e.value("subject", "") == user) out.push_back(e);
    }
    return out;
  }

  // The SHA256:... field of `ssh-keygen -lf PUB`.
  static std::string SshKeygenFingerprint(const std::string& pub) {
    CommandResult r = RunCommand({"ssh-keygen", "-l", "-E", "sha256", "-f", pub});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    size_t start = r.out.find(' ') + 1;
    return r.out.substr(start, r.out.find(' ', start) - start);
  }

  std::string bob_secret_;
};

TEST_F(SshLoginTest, LoginWritesKeyCertificateKnownHostsAndSshConfig) {
  ASSERT_NO_FATAL_FAILURE(SetUpBroker());
  const int64_t before = SystemClock::Get()->NowUnix();
  CommandResult login = LoginBob(0);
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  EXPECT_THAT(login.out, HasSubstr("Logged in as bob until"));
  EXPECT_THAT(login.out, HasSubstr("SSH certificate valid until "));
  EXPECT_THAT(login.out, HasSubstr(BobFile("id_ed25519-cert.pub")));
  EXPECT_THAT(login.out, HasSubstr("SSH config: " + BobFile("ssh_config")));
  EXPECT_THAT(login.out, HasSubstr("SSH targets: rtu-01 rtu-02\n"));
  EXPECT_THAT(login.out, HasSubstr("Try: ssh -F " + BobFile("ssh_config") + " rtu-01\n"));

  EXPECT_EQ(FileMode(Bob()), 0700);
  EXPECT_EQ(FileMode(BobFile("id_ed25519")), 0600);
  EXPECT_EQ(FileMode(BobFile("id_ed25519.pub")), 0644);
  EXPECT_EQ(FileMode(BobFile("id_ed25519-cert.pub")), 0644);
  EXPECT_EQ(FileMode(BobFile("known_hosts")), 0644);
  EXPECT_EQ(FileMode(BobFile("ssh_config")), 0644);

  // ssh can load the private key, and it matches the public half.
  CommandResult y = RunCommand({"ssh-keygen", "-y", "-f", BobFile("id_ed25519")});
  ASSERT_EQ(y.exit_code, 0) << Describe(y);
  const std::string pub = Read(BobFile("id_ed25519.pub"));
  EXPECT_EQ(Line(y.out).substr(0, 80), Line(pub).substr(0, 80));
  EXPECT_THAT(pub, ::testing::StartsWith("ssh-ed25519 AAAA"));

  // The certificate: a user certificate for bob, signed by the login CA (not
  // the target CA), valid for the default 8 h.
  CommandResult cert = RunCommand({"ssh-keygen", "-L", "-f", BobFile("id_ed25519-cert.pub")},
                                  "", std::chrono::seconds(30), {"TZ=UTC"});
  ASSERT_EQ(cert.exit_code, 0) << Describe(cert);
  EXPECT_THAT(cert.out, HasSubstr("Type: ssh-ed25519-cert-v01@openssh.com user certificate"));
  EXPECT_THAT(cert.out, ::testing::ContainsRegex("Key ID: \"portcullis-login:bob/u[0-9]+/g1\""));
  EXPECT_THAT(cert.out, ::testing::ContainsRegex("Principals: *\n +bob\n +Critical"));
  auto login_ca = ca::Ed25519Key::LoadPrivateFile(broker().data_dir() + "/keys/ssh_login_ca");
  ASSERT_TRUE(login_ca.ok()) << login_ca.status();
  EXPECT_THAT(cert.out, HasSubstr("Signing CA: ED25519 " + ca::Fingerprint(login_ca->PublicBlob())));
  CommandResult user_ca = Admin({"ca", "export", "--ssh"});
  ASSERT_EQ(user_ca.exit_code, 0);
  EXPECT_THAT(user_ca.out, Not(HasSubstr(login_ca->AuthorizedKeyLine("").substr(12, 68))));
  size_t to = cert.out.find(" to ");
  ASSERT_NE(to, std::string::npos) << cert.out;
  auto valid_before = ParseUtc(Line(cert.out.substr(to + 4)) + "Z");
  ASSERT_TRUE(valid_before.ok()) << cert.out;
  EXPECT_GE(ToUnix(*valid_before), before + 8 * 3600);
  EXPECT_LE(ToUnix(*valid_before), SystemClock::Get()->NowUnix() + 8 * 3600);
  EXPECT_THAT(login.out, HasSubstr("SSH certificate valid until " + FormatUtc(*valid_before)));

  // known_hosts pins the broker's SSH host key for [host]:port.
  const std::string port = std::to_string(broker().options().ssh_port);
  const std::string host_key = DataKeyLine("ssh_host_ed25519_key");
  const std::string known = Read(BobFile("known_hosts"));
  EXPECT_THAT(known, HasSubstr("\n[127.0.0.1]:" + port + " " + host_key + "\n"));
  CommandResult found = RunCommand(
      {"ssh-keygen", "-F", "[127.0.0.1]:" + port, "-f", BobFile("known_hosts")});
  EXPECT_EQ(found.exit_code, 0) << Describe(found);

  // ssh_config: what `ssh -G` resolves for a target and for the menu.
  const std::string config = Read(BobFile("ssh_config"));
  EXPECT_THAT(config, HasSubstr("Host rtu-01\n"));
  EXPECT_THAT(config, HasSubstr("Host rtu-02\n"));
  EXPECT_THAT(config, Not(HasSubstr("plc-09")));
  EXPECT_THAT(config, Not(HasSubstr("hmi-01")));
  CommandResult g = RunCommand({"ssh", "-G", "-F", BobFile("ssh_config"), "rtu-01"});
  ASSERT_EQ(g.exit_code, 0) << Describe(g);
  EXPECT_THAT(g.out, HasSubstr("\nuser bob:rtu-01\n"));
  EXPECT_THAT(g.out, HasSubstr("\nhostname 127.0.0.1\n"));
  EXPECT_THAT(g.out, HasSubstr("\nport " + port + "\n"));
  EXPECT_THAT(g.out, HasSubstr("\nidentityfile " + BobFile("id_ed25519") + "\n"));
  EXPECT_THAT(g.out, HasSubstr("\ncertificatefile " + BobFile("id_ed25519-cert.pub") + "\n"));
  EXPECT_THAT(g.out, HasSubstr("\nidentitiesonly yes\n"));
  EXPECT_THAT(g.out, HasSubstr("\nuserknownhostsfile " + BobFile("known_hosts") + "\n"));
  EXPECT_THAT(g.out, HasSubstr("\nstricthostkeychecking true\n"));
  CommandResult menu = RunCommand({"ssh", "-G", "-F", BobFile("ssh_config"), "portcullis"});
  ASSERT_EQ(menu.exit_code, 0) << Describe(menu);
  EXPECT_THAT(menu.out, HasSubstr("\nuser bob\n"));
  EXPECT_THAT(menu.out, HasSubstr("\nport " + port + "\n"));

  // Audited with the key's fingerprint.
  auto rows = CertAudit("bob");
  ASSERT_EQ(rows.size(), 1u) << rows.dump(2);
  EXPECT_EQ(rows[0]["actor"], "bob");
  auto pub_key = ca::ParsePublicKeyLine(pub);
  ASSERT_TRUE(pub_key.ok());
  EXPECT_EQ(rows[0]["details"]["key_fingerprint"], ca::Fingerprint(pub_key->blob));
  EXPECT_EQ(rows[0]["details"]["valid_before"], FormatUtc(*valid_before));

  // The files work with the broker's SSH listener: ssh trusts the pinned
  // host key and the certificate logs bob in without a prompt (BatchMode);
  // the session then fails only at the unreachable target.
  CommandResult ssh = RunCommand({"ssh", "-F", BobFile("ssh_config"), "-o", "BatchMode=yes",
                                  "-o", "ConnectTimeout=10", "rtu-01", "true"},
                                 "", std::chrono::seconds(40));
  EXPECT_NE(ssh.exit_code, 0) << Describe(ssh);
  EXPECT_THAT(ssh.err, Not(HasSubstr("Host key verification failed"))) << Describe(ssh);
  EXPECT_THAT(ssh.err, Not(HasSubstr("Permission denied"))) << Describe(ssh);
  CommandResult logins = Admin({"audit", "ls", "--json", "--type", "auth.login", "--actor", "bob"});
  EXPECT_THAT(logins.out, HasSubstr("login-certificate")) << logins.out;

  // A second login keeps the key and replaces the certificate.
  const std::string first_cert = Read(BobFile("id_ed25519-cert.pub"));
  CommandResult again = LoginBob(1);
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(Read(BobFile("id_ed25519.pub")), pub);
  EXPECT_NE(Read(BobFile("id_ed25519-cert.pub")), first_cert);

  // Logging out removes the certificate, not the key.
  CommandResult logout = broker().Cli(Bob(), {"logout"});
  ASSERT_EQ(logout.exit_code, 0) << Describe(logout);
  EXPECT_EQ(FileMode(BobFile("id_ed25519-cert.pub")), -1);
  EXPECT_EQ(FileMode(BobFile("id_ed25519")), 0600);
}

// A key registered with `keys add` plus the verification code logs in at
// the broker's SSH listener (the code is typed through SSH_ASKPASS).
TEST_F(SshLoginTest, RegisteredKeyPlusCodeLogsInAtTheListener) {
  ASSERT_NO_FATAL_FAILURE(SetUpBroker());
  CommandResult login = LoginBob(0, {"--no-ssh"});
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  const std::string key = broker().Join("bob_key");
  CommandResult gen =
      RunCommand({"ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-C", "bob", "-f", key});
  ASSERT_EQ(gen.exit_code, 0) << Describe(gen);
  CommandResult add = broker().Cli(Bob(), {"keys", "add", key + ".pub"});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);

  const std::string askpass = broker().Join("askpass.sh");
  ASSERT_TRUE(
      WriteWholeFile(askpass, "#!/bin/sh\necho " + TotpCode(bob_secret_, 1) + "\n", 0700).ok());
  CommandResult ssh = RunCommand(
      {"ssh", "-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o",
       "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
       "PreferredAuthentications=publickey,keyboard-interactive", "-o", "ConnectTimeout=10",
       "-p", std::to_string(broker().options().ssh_port), "bob:rtu-01@127.0.0.1", "true"},
      "", std::chrono::seconds(40),
      {"SSH_ASKPASS=" + askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0"});
  EXPECT_THAT(ssh.err, Not(HasSubstr("Permission denied"))) << Describe(ssh);
  CommandResult logins = Admin({"audit", "ls", "--json", "--type", "auth.login", "--actor", "bob"});
  EXPECT_THAT(logins.out, HasSubstr("publickey(" + SshKeygenFingerprint(key + ".pub") + ")+totp"))
      << logins.out;

  // Removed, the key is refused (and the askpass code alone is no password).
  const std::string fp = SshKeygenFingerprint(key + ".pub");
  ASSERT_EQ(broker().Cli(Bob(), {"keys", "rm", fp}).exit_code, 0);
  CommandResult again = RunCommand(
      {"ssh", "-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
       "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
       "PreferredAuthentications=publickey", "-o", "ConnectTimeout=10", "-p",
       std::to_string(broker().options().ssh_port), "bob:rtu-01@127.0.0.1", "true"},
      "", std::chrono::seconds(40));
  EXPECT_EQ(again.exit_code, 255) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr("Permission denied")) << Describe(again);
}

TEST_F(SshLoginTest, NoSshLoginWritesNoSshFiles) {
  ASSERT_NO_FATAL_FAILURE(SetUpBroker());
  CommandResult login = LoginBob(0, {"--no-ssh"});
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  EXPECT_THAT(login.out, Not(HasSubstr("SSH")));
  for (const char* f : {"id_ed25519", "id_ed25519.pub", "id_ed25519-cert.pub", "known_hosts",
                        "ssh_config"}) {
    EXPECT_EQ(FileMode(BobFile(f)), -1) << f;
  }
  EXPECT_EQ(CertAudit("bob"), nlohmann::json::array());
}

TEST_F(SshLoginTest, DisabledListenerStillGivesTheCertificateButNoConfig) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());  // listen.ssh port 0
  const std::string home = broker().AdminHome();
  EXPECT_EQ(FileMode(home + "/id_ed25519-cert.pub"), 0644);
  EXPECT_EQ(FileMode(home + "/known_hosts"), -1);
  EXPECT_EQ(FileMode(home + "/ssh_config"), -1);
}

TEST_F(SshLoginTest, BadSshPublicKeyRefusedOnlyAfterCredentials) {
  ASSERT_NO_FATAL_FAILURE(SetUpBroker());
  auto stub = v1::AuthService::NewStub(ApiChannel(broker()));
  v1::LoginRequest req;
  req.set_user("bob");
  req.set_password("not bob's password");
  req.set_totp_code(TotpCode(bob_secret_));
  req.set_ssh_public_key("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 me");
  v1::LoginResponse resp;
  grpc::Status st = stub->Login(ApiContext().get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::UNAUTHENTICATED) << Describe(st);
  EXPECT_EQ(st.error_message(), "invalid credentials");

  req.set_password(kBobPassword);
  st = stub->Login(ApiContext().get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::INVALID_ARGUMENT) << Describe(st);
  EXPECT_EQ(st.error_message(),
            "ssh_public_key: unsupported public key type \"ssh-rsa\" (only ssh-ed25519)");
  EXPECT_TRUE(resp.token().empty());
  EXPECT_TRUE(resp.ssh_certificate().empty());
}

}  // namespace
}  // namespace portcullis::testing
