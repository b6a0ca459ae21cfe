// Secrets never leak: after logins that succeed and fail, no password, TOTP
// secret or bearer token appears in the daemon's log (at trace level), in
// any CLI output other than the one-time enrolment, or in the audit log;
// and the database holds none of them in clear. The same for vaulted target
// passwords and private keys after SSH sessions that used them, succeeded
// and failed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/ssh_test_env.h"
#include "tests/integration/vault_env.h"
#include "tests/support/local_account.h"

namespace portcullis::testing {
namespace {

constexpr char kSeededAdminPassword[] = "SEEDED-pw-1c9e-correct-horse";
constexpr char kSeededBobPassword[] = "SEEDED-bob-pw-5d2f-battery";
constexpr char kSeededTypo[] = "SEEDED-pw-1c9e-correct-hoRse";  // a near miss is a secret too

struct Secret {
  std::string name;
  std::string value;
};

// None of `secrets` in `text` (`where` names it in failures).
void ExpectNoSecretIn(const std::string& text, const std::string& where,
                      const std::vector<Secret>& secrets) {
  for (const auto& s : secrets) {
    EXPECT_EQ(text.find(s.value), std::string::npos) << s.name << " in " << where;
  }
}

// None of `secrets` in any file under `dir` (DB, WAL, anchor, keys,
// recordings), byte-wise. Returns the number of files read.
int ExpectNoSecretAtRest(const std::string& dir, const std::vector<Secret>& secrets) {
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto bytes = ReadWholeFile(e.path().string());
    EXPECT_TRUE(bytes.ok()) << e.path();
    if (!bytes.ok()) continue;
    ++files;
    for (const auto& s : secrets) {
      EXPECT_GE(s.value.size(), 16u) << s.name;
      EXPECT_EQ(bytes->find(s.value), std::string::npos) << s.name << " in " << e.path();
    }
  }
  return files;
}

class SecretsTest : public BrokerTest {
 protected:
  // Keeps every output that must be free of secrets.
  CommandResult Keep(CommandResult r) {
    outputs_.push_back("stdout: " + r.out);
    outputs_.push_back("stderr: " + r.err);
    return r;
  }
  std::vector<std::string> outputs_;
};

std::string TokenIn(const std::string& home) {
  auto text = ReadWholeFile(home + "/login.json");
  if (!text.ok()) return "";
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() ? j.value("token", "") : "";
}

TEST_F(SecretsTest, NoSecretInLogsCliOutputAuditOrDatabase) {
  BrokerOptions opts;
  opts.admin_password = kSeededAdminPassword;
  opts.log_level = "trace";
  ASSERT_NO_FATAL_FAILURE(StartBroker(opts));
  const std::string admin_secret = broker().admin_totp_secret();
  outputs_.push_back("init stderr: " + broker().init_result().err);

  // Failures first (they must not consume the codes used below).
  Keep(broker().Login(broker().Home("x"), "alice", kSeededTypo, TotpCode(admin_secret, 0)));
  Keep(broker().Login(broker().Home("x"), "alice", kSeededAdminPassword,
                      WrongTotpCode(admin_secret)));
  Keep(broker().Login(broker().Home("x"), "nobody", kSeededAdminPassword,
                      TotpCode(admin_secret, 0)));
  const std::string admin_code = TotpCode(admin_secret, 0);
  CommandResult login = Keep(
      broker().Login(broker().AdminHome(), "alice", kSeededAdminPassword, admin_code));
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  Keep(broker().Login(broker().Home("x"), "alice", kSeededAdminPassword, admin_code));  // replay

  // Enrolment output is the one place the TOTP secret is shown on purpose.
  CommandResult add = Admin({"users", "add", "bob", "--password-stdin"},
                            std::string(kSeededBobPassword) + "\n");
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  outputs_.push_back("users add stderr: " + add.err);
  const std::string bob_secret = ExtractTotpSecret(add.out);
  ASSERT_FALSE(bob_secret.empty());
  CommandResult bob = Keep(broker().Login(broker().Home("bob"), "bob", kSeededBobPassword,
                                          TotpCode(bob_secret, 0)));
  ASSERT_EQ(bob.exit_code, 0) << Describe(bob);
  Keep(broker().Cli(broker().Home("bob"), {"users", "ls"}));  // refused: not admin
  Keep(broker().Cli(broker().Home("bob"), {"whoami"}));
  Keep(Admin({"users", "ls"}));
  Keep(Admin({"whoami"}));
  Keep(Admin({"users", "reset-totp", "nobody"}));
  CommandResult audit = Keep(Admin({"audit", "ls", "--json"}));
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  ASSERT_THAT(audit.out, ::testing::HasSubstr("auth.mfa_failure"));

  const std::string admin_token = TokenIn(broker().AdminHome());
  const std::string bob_token = TokenIn(broker().Home("bob"));
  ASSERT_FALSE(admin_token.empty());
  ASSERT_FALSE(bob_token.empty());
  const std::vector<Secret> secrets = {
      {"admin password", kSeededAdminPassword},
      {"mistyped admin password", kSeededTypo},
      {"bob's password", kSeededBobPassword},
      {"admin TOTP secret", admin_secret},
      {"bob's TOTP secret", bob_secret},
      {"admin token", admin_token},
      {"bob's token", bob_token},
  };

  auto stop = broker().Stop();
  ASSERT_TRUE(stop.ok()) << stop;
  const std::string log = broker().Log();
  ASSERT_THAT(log, ::testing::HasSubstr("portcullisd ready"));
  ExpectNoSecretIn(log, "the daemon log", secrets);
  for (const auto& out : outputs_) ExpectNoSecretIn(out, "CLI output", secrets);

  // At rest: every file of the data directory (DB, WAL, anchor, keys).
  std::vector<Secret> at_rest = secrets;
  at_rest.push_back({"admin TOTP seed (raw)", Base32Decode(admin_secret)});
  at_rest.push_back({"bob's TOTP seed (raw)", Base32Decode(bob_secret)});
  EXPECT_GE(ExpectNoSecretAtRest(broker().data_dir(), at_rest), 5);
}

// --- Vaulted target secrets ---

constexpr char kSeededVaultPassword[] = "SEEDED-vault-pw-6b3e-switchgear";
constexpr char kSeededVaultTypo[] = "SEEDED-vault-pw-6b3e-switchgeAr";
constexpr char kVaultLogin[] = "pcvault8";

// What of an unencrypted OpenSSH Ed25519 private key must never be seen:
// the file, each base64 line after the first (that one holds only the
// format header), the decoded private section and the 32-byte seed.
std::vector<Secret> KeySecrets(const std::string& name, const std::string& pem) {
  std::vector<Secret> out = {{name + " (file)", pem}};
  std::vector<std::string> lines;
  std::string body;
  size_t from = 0;
  while (from < pem.size()) {
    size_t nl = pem.find('\n', from);
    std::string line = pem.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
    from = nl == std::string::npos ? pem.size() : nl + 1;
    if (line.empty() || line.rfind("-----", 0) == 0) continue;
    lines.push_back(line);
    body += line;
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].size() >= 16) out.push_back({fmt::format("{} (base64 line {})", name, i), lines[i]});
  }
  auto blob = Base64Decode(body);
  EXPECT_TRUE(blob.ok());
  if (!blob.ok()) return out;
  // openssh-key-v1\0, cipher, kdf, kdf options, key count, public key,
  // private section (check ints, type, public key, seed || public key, ...).
  BoundedReader r(std::string_view(*blob).substr(15));
  auto cipher = r.String();
  auto kdf = r.String();
  auto kdf_options = r.String();
  auto count = r.U32();
  auto pub = r.String();
  auto priv = r.String();
  EXPECT_TRUE(cipher.ok() && *cipher == "none" && kdf.ok() && kdf_options.ok() && count.ok() &&
              pub.ok() && priv.ok());
  if (!priv.ok()) return out;
  out.push_back({name + " (private section)", std::string(*priv)});
  BoundedReader p(*priv);
  auto check1 = p.U32();
  auto check2 = p.U32();
  auto type = p.String();
  auto pub2 = p.String();
  auto seed_and_pub = p.String();
  EXPECT_TRUE(check1.ok() && check2.ok() && type.ok() && *type == "ssh-ed25519" && pub2.ok() &&
              seed_and_pub.ok() && seed_and_pub->size() == 64);
  if (seed_and_pub.ok() && seed_and_pub->size() == 64)
    out.push_back({name + " (seed)", std::string(seed_and_pub->substr(0, 32))});
  return out;
}

class VaultSecretsTest : public SshTest {
 protected:
  CommandResult Keep(CommandResult r) {
    outputs_.push_back("stdout: " + r.out);
    outputs_.push_back("stderr: " + r.err);
    return r;
  }
  std::vector<std::string> outputs_;
};

TEST_F(VaultSecretsTest, VaultedPasswordsAndKeysAppearNowhereInClear) {
  // Only the vaulted targets: a broker with its SSH listener, logging at
  // trace level.
  BrokerOptions bo;
  bo.ssh_port = PickFreePort();
  bo.log_level = "trace";
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(bo));
  auto account = LocalAccount::Create(kVaultLogin, kSeededVaultPassword);
  ASSERT_TRUE(account.ok()) << account.status();
  const std::string key = broker().Join("seeded_ed25519");
  auto pub = GenerateKeyPair(key, "ed25519");
  ASSERT_TRUE(pub.ok()) << pub.status();
  ASSERT_TRUE((*account)->AuthorizeKeys(*pub).ok());
  auto pem = ReadWholeFile(key);
  ASSERT_TRUE(pem.ok());
  SshdOptions so;
  so.extra_config = {"PasswordAuthentication yes", "AuthorizedKeysFile .ssh/authorized_keys"};
  SshdFixture vaulted(so);
  ASSERT_TRUE(vaulted.Start().ok());
  const std::string address = fmt::format("127.0.0.1:{}", vaulted.port());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("vault-ops", kVaultLogin)));
  ASSERT_EQ(Keep(AddTarget("sw-07", address, {"--auth", "password", "--label", "site=plant-a"}))
                .exit_code,
            0);
  ASSERT_EQ(Keep(AddTarget("rtu-17", address, {"--auth", "key", "--label", "site=plant-a"}))
                .exit_code,
            0);
  auto set_password = [&](const char* pw) {
    return Keep(Admin({"targets", "set-secret", "sw-07", "--login", kVaultLogin,
                       "--password-stdin"},
                      pw));
  };
  ASSERT_EQ(set_password(kSeededVaultPassword).exit_code, 0);
  ASSERT_EQ(Keep(Admin({"targets", "set-secret", "rtu-17", "--login", kVaultLogin, "--key-file",
                        key}))
                .exit_code,
            0);

  // Sessions that use them, then a wrong and a removed secret.
  const std::vector<std::string> roles = {"vault-ops"};
  for (const char* t : {"sw-07", "rtu-17"}) {
    SshUser u = NewUser(roles);
    CommandResult r = Keep(Ssh(u, u.name + ":" + t, {"id -un"}));
    EXPECT_EQ(r.exit_code, 0) << t << "\n" << Describe(r);
  }
  ASSERT_EQ(set_password(kSeededVaultTypo).exit_code, 0);
  SshUser wrong = NewUser(roles);
  EXPECT_NE(Keep(Ssh(wrong, wrong.name + ":sw-07", {"true"})).exit_code, 0);
  ASSERT_EQ(Keep(Admin({"targets", "rm-secret", "rtu-17", "--login", kVaultLogin})).exit_code, 0);
  SshUser gone = NewUser(roles);
  EXPECT_NE(Keep(Ssh(gone, gone.name + ":rtu-17", {"true"})).exit_code, 0);
  Keep(Admin({"targets", "show", "sw-07"}));
  Keep(Admin({"targets", "show", "rtu-17"}));
  CommandResult audit = Keep(Admin({"audit", "ls", "--json", "--limit", "10000"}));
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  ASSERT_THAT(audit.out, ::testing::HasSubstr("target.secret_set"));
  ASSERT_THAT(audit.out, ::testing::HasSubstr("session.target_failed"));

  std::vector<Secret> secrets = {{"vaulted password", kSeededVaultPassword},
                                 {"mistyped vaulted password", kSeededVaultTypo}};
  for (auto& s : KeySecrets("vaulted key", *pem)) secrets.push_back(std::move(s));
  auto stop = broker().Stop();
  ASSERT_TRUE(stop.ok()) << stop;
  const std::string log = broker().Log();
  ASSERT_THAT(log, ::testing::HasSubstr("portcullisd ready"));
  ExpectNoSecretIn(log, "the daemon log", secrets);
  for (const auto& out : outputs_) ExpectNoSecretIn(out, "CLI or ssh output", secrets);
  EXPECT_GE(ExpectNoSecretAtRest(broker().data_dir(), secrets), 5);
}

}  // namespace
}  // namespace portcullis::testing

// --- VNC: the vaulted HMI password and connection tickets ---

namespace portcullis::testing {
namespace {

constexpr char kSeededVncPassword[] = "SEEDED-vnc-pw-4e1a-turbine-hall";
constexpr char kSeededVncBobPassword[] = "SEEDED-bobvnc-pw-8d0c-gearbox";

TEST_F(SecretsTest, VncPasswordAndTicketsNeverLeak) {
  BrokerOptions opts;
  opts.log_level = "trace";
  opts.vnc_port = PickFreePort();
  ASSERT_GT(opts.vnc_port, 0);
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(opts));
  const std::string role = broker().Join("roles.yaml");
  ASSERT_TRUE(WriteWholeFile(role,
                             "kind: role\nname: hmi-ops\nallow:\n  targets: {site: plant-a}\n"
                             "  protocols: [vnc]\n",
                             0600)
                  .ok());
  ASSERT_EQ(Keep(Admin({"roles", "apply", "-f", role})).exit_code, 0);
  ASSERT_EQ(Keep(Admin({"targets", "add", "hmi-07", "--address", "127.0.0.1:5907", "--protocol",
                        "vnc", "--label", "site=plant-a"}))
                .exit_code,
            0);
  CommandResult set =
      Keep(Admin({"targets", "set-secret", "hmi-07", "--password-stdin"}, kSeededVncPassword));
  ASSERT_EQ(set.exit_code, 0) << Describe(set);
  auto bob_secret = broker().AddUser("bob", kSeededVncBobPassword, {"hmi-ops"});
  ASSERT_TRUE(bob_secret.ok()) << bob_secret.status();
  ASSERT_EQ(Keep(broker().Login(broker().Home("bob"), "bob", kSeededVncBobPassword,
                                TotpCode(*bob_secret, 0)))
                .exit_code,
            0);
  // Four tickets (the output that shows them is the one place they appear).
  std::vector<std::string> tickets;
  for (int i = 0; i < 4; ++i) {
    CommandResult a = broker().Cli(broker().Home("bob"), {"access", "hmi-07"});
    ASSERT_EQ(a.exit_code, 0) << Describe(a);
    ASSERT_EQ(a.out.rfind("ticket  ", 0), 0u) << a.out;
    tickets.push_back(a.out.substr(8, 8));
    outputs_.push_back("stderr: " + a.err);
  }
  CommandResult audit = Keep(Admin({"audit", "ls", "--json"}));
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  ASSERT_THAT(audit.out, ::testing::HasSubstr("ticket.issued"));
  ASSERT_THAT(audit.out, ::testing::HasSubstr("evicted"));  // the 4th evicted the 1st

  auto stop = broker().Stop();
  ASSERT_TRUE(stop.ok()) << stop;
  const std::string log = broker().Log();
  std::vector<Secret> secrets = {{"VNC password", kSeededVncPassword},
                                 {"VNC password (the 8 characters VNC uses)",
                                  std::string(kSeededVncPassword).substr(0, 8)},
                                 {"bob's password", kSeededVncBobPassword}};
  for (size_t i = 0; i < tickets.size(); ++i)
    secrets.push_back({"ticket " + std::to_string(i), tickets[i]});
  ExpectNoSecretIn(log, "the daemon log", secrets);
  ExpectNoSecretIn(audit.out, "the audit log", secrets);
  for (const auto& out : outputs_) ExpectNoSecretIn(out, "CLI output", secrets);
  // At rest: the long secrets byte-wise (ExpectNoSecretAtRest wants >= 16
  // bytes), the tickets the same way by hand.
  EXPECT_GE(ExpectNoSecretAtRest(broker().data_dir(), {secrets[0], secrets[2]}), 5);
  for (const auto& e : std::filesystem::recursive_directory_iterator(broker().data_dir())) {
    if (!e.is_regular_file()) continue;
    auto bytes = ReadWholeFile(e.path().string());
    ASSERT_TRUE(bytes.ok());
    for (const auto& t : tickets) EXPECT_EQ(bytes->find(t), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace portcullis::testing
