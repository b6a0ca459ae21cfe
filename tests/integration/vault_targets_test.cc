// Vaulted-credential SSH targets end to end, with real servers that cannot
// take the broker's certificates: an OpenSSH sshd taking passwords only, an
// sshd taking authorized keys only, and Dropbear with a password and with a
// key, each logging a throwaway local account in. For each: exec with its
// exit status, a shell on a terminal, legacy scp and sftp both ways
// byte-exact, the host key pinned on first use and a changed one refused
// before any secret is offered, a wrong and a removed secret. Then RSA and
// ECDSA keys on both servers, and the faults (no usable auth method, a
// refused key, a keyboard-interactive prompt that never ends): each ends
// only its own session with one line to the user and an audit row with the
// reason, and none counts toward the user's lockout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <random>
#include <regex>

#include "tests/integration/ssh_test_env.h"
#include "tests/integration/vault_env.h"
#include "tests/support/local_account.h"
#include "tests/support/server_process.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using SteadyClock = std::chrono::steady_clock;

constexpr char kAccountPassword[] = "Vaulted-pw-8142-tq";
// Debian's interpreter, where python3-paramiko is installed.
constexpr char kPython[] = "/usr/bin/python3";
// ssh::kMaxKbdintRounds (agentless/ssh/target_connector.h).
constexpr int kMaxKbdintRounds = 4;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string Refusal(const std::string& target, const std::string& login) {
  return fmt::format("portcullis: the broker could not log in to {} as {}", target, login);
}

class VaultTargetsTest : public SshTest {
 protected:
  // scp with the test's client options.
  std::vector<std::string> Scp(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"scp", "-q", "-P", std::to_string(broker_->options().ssh_port)};
    for (const auto& o : ClientOptions()) argv.push_back(o);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  CommandResult SetPassword(const std::string& target, const std::string& login,
                            const std::string& password) {
    return Admin({"targets", "set-secret", target, "--login", login, "--password-stdin"},
                 password);
  }
  CommandResult SetKey(const std::string& target, const std::string& login,
                       const std::string& key_file) {
    return Admin({"targets", "set-secret", target, "--login", login, "--key-file", key_file});
  }
  // A fresh user's session to `target` fails with exactly one refusal line,
  // and a session.target_failed row of that user carries `reason`.
  void ExpectRefused(const std::string& target, const std::string& login,
                     const std::string& reason, const std::vector<std::string>& roles) {
    SshUser u = NewUser(roles);
    CommandResult r = Ssh(u, u.name + ":" + target, {"true"});
    EXPECT_NE(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(Count(r.out + r.err, Refusal(target, login)), 1u) << Describe(r);
    auto row = WaitForEvent("session.target_failed", [&](const nlohmann::json& e) {
      return e["actor"] == u.name && e["subject"] == target && DetailIs(e, "reason", reason);
    });
    EXPECT_TRUE(row.has_value()) << "want reason: " << reason << "\n"
                                 << DumpEvents("session.target_failed");
  }
  void ExpectFileIs(const std::string& path, const std::string& data) {
    auto got = ReadWholeFile(path);
    ASSERT_TRUE(got.ok()) << path << ": " << got.status();
    EXPECT_EQ(got->size(), data.size()) << path;
    EXPECT_EQ(Sha256Hex(*got), Sha256Hex(data)) << path;
  }
};

// --- One vaulted target of each kind, every access path ---

struct VaultedCase {
  const char* name;
  TargetServer server;
  VaultedAuth auth;
  const char* account;   // unique per case: ctest runs the cases in parallel
  const char* key_type;  // ssh-keygen -t, for VaultedAuth::kKey
};

// For test names and failure messages (GoogleTest would print raw bytes).
void PrintTo(const VaultedCase& c, std::ostream* os) { *os << c.name; }

class VaultedTargetTest : public VaultTargetsTest,
                          public ::testing::WithParamInterface<VaultedCase> {};

TEST_P(VaultedTargetTest, ExecShellTransfersPinningAndBadSecrets) {
  const VaultedCase& c = GetParam();
  ASSERT_TRUE(c.server == TargetServer::kSshd || DropbearFixture::Available())
      << "dropbear-bin is needed (.ci/deps.sh installs it)";
  ASSERT_NO_FATAL_FAILURE(StartAll());
  auto account = LocalAccount::Create(c.account, kAccountPassword);
  ASSERT_TRUE(account.ok()) << account.status();
  const std::string login = c.account;
  const std::string home = (*account)->home();
  const std::string key = broker().Join("vaulted_key");
  if (c.auth == VaultedAuth::kKey) {
    auto pub = GenerateKeyPair(key, c.key_type);
    ASSERT_TRUE(pub.ok()) << pub.status();
    ASSERT_TRUE((*account)->AuthorizeKeys(*pub).ok());
  }
  auto server = VaultedServer::Start(c.server, c.auth);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::vector<std::string> roles = {"vault-ops"};
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("vault-ops", login)));
  const std::string t = "vt-01";
  CommandResult add = AddTarget(t, (*server)->address(),
                                {"--auth", AuthName(c.auth), "--label", "site=plant-a"});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  auto set_good = [&] {
    return c.auth == VaultedAuth::kKey ? SetKey(t, login, key)
                                       : SetPassword(t, login, kAccountPassword);
  };
  CommandResult set = set_good();
  ASSERT_EQ(set.exit_code, 0) << Describe(set);

  // Exec, with the command's exit status.
  SshUser a = NewUser(roles);
  CommandResult r = Ssh(a, a.name + ":" + t, {"id -un; exit 3"});
  ASSERT_EQ(r.exit_code, 3) << Describe(r) << DumpEvents("session.target_failed")
                            << (*server)->log();
  EXPECT_EQ(r.out, login + "\n");

  // Trust on first use: the key the server presents is now the pin.
  const std::string host_key = (*server)->host_key();
  ASSERT_FALSE(host_key.empty());
  auto pinned = WaitForEvent("target.host_key_pinned",
                             [&](const nlohmann::json& e) { return e["subject"] == t; });
  ASSERT_TRUE(pinned.has_value()) << DumpEvents("target.");
  EXPECT_TRUE(DetailIs(*pinned, "host_key", host_key)) << pinned->dump() << "\n" << host_key;
  CommandResult show = Admin({"targets", "show", t});
  EXPECT_THAT(show.out, HasSubstr("host key: " + host_key)) << Describe(show);

  // A shell on a terminal.
  SshUser b = NewUser(roles);
  auto sh = SshOnPty(b, b.name + ":" + t, {});
  ASSERT_NE(sh, nullptr);
  ASSERT_TRUE(sh->Write("echo shell-$((6*7)) $(id -un)\r"));
  EXPECT_TRUE(sh->ReadUntil("shell-42 " + login)) << sh->output();
  ASSERT_TRUE(sh->Write("tty; exit 6\r"));
  EXPECT_TRUE(sh->ReadUntil("/dev/pts/")) << sh->output();
  EXPECT_EQ(sh->WaitExit(), 6) << sh->output();

  // scp (the legacy protocol) and sftp, both ways, 1-4 MiB of random bytes.
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(fmt::format("file seed {}", seed));
  const std::string up = PseudoRandomBytes((1u << 20) + seed % (3u << 20), seed);
  const std::string down = PseudoRandomBytes((1u << 20) + (seed / 7) % (3u << 20), seed + 1);
  const std::string local_up = broker().Join("up.bin");
  ASSERT_TRUE(WriteWholeFile(local_up, up).ok());
  ASSERT_TRUE((*account)->WriteFile("down.bin", down).ok());

  SshUser d = NewUser(roles);
  CommandResult su = Client(d, Scp({"-O", "-o", "User=" + d.name + ":" + t, local_up,
                                    "127.0.0.1:" + home + "/scp-up.bin"}));
  ASSERT_EQ(su.exit_code, 0) << Describe(su);
  ExpectFileIs(home + "/scp-up.bin", up);
  SshUser e = NewUser(roles);
  const std::string scp_down = broker().Join("scp-down.bin");
  CommandResult sd = Client(
      e, Scp({"-O", "-o", "User=" + e.name + ":" + t, "127.0.0.1:" + home + "/down.bin", scp_down}));
  ASSERT_EQ(sd.exit_code, 0) << Describe(sd);
  ExpectFileIs(scp_down, down);

  // Not sftp -b: batch mode turns keyboard-interactive off. Commands on stdin.
  SshUser f = NewUser(roles);
  std::vector<std::string> sftp = {"sftp", "-P", std::to_string(ssh_port())};
  for (const auto& o : ClientOptions()) sftp.push_back(o);
  sftp.push_back(f.name + "+" + t + "@127.0.0.1");
  const std::string sftp_down = broker().Join("sftp-down.bin");
  CommandResult sf = Client(f, sftp,
                            fmt::format("put {} {}/sftp-up.bin\nget {}/down.bin {}\nbye\n",
                                        local_up, home, home, sftp_down));
  ASSERT_EQ(sf.exit_code, 0) << Describe(sf);
  ExpectFileIs(home + "/sftp-up.bin", up);
  ExpectFileIs(sftp_down, down);
  auto row = WaitForEvent("file.transfer", [&](const nlohmann::json& ev) {
    return ev["actor"] == f.name && DetailIs(ev, "path", home + "/sftp-up.bin");
  });
  ASSERT_TRUE(row.has_value()) << DumpEvents("file.");
  EXPECT_TRUE(DetailIs(*row, "sha256", Sha256Hex(up))) << row->dump();

  // A wrong secret, then none.
  if (c.auth == VaultedAuth::kKey) {
    const std::string other = broker().Join("other_key");
    ASSERT_TRUE(GenerateKeyPair(other, c.key_type).ok());
    ASSERT_EQ(SetKey(t, login, other).exit_code, 0);
    ExpectRefused(t, login, "target refused the vaulted key", roles);
  } else {
    ASSERT_EQ(SetPassword(t, login, "Wrong-pw-0000-zz").exit_code, 0);
    ExpectRefused(t, login, "target refused the vaulted password", roles);
  }
  ASSERT_EQ(Admin({"targets", "rm-secret", t, "--login", login}).exit_code, 0);
  ExpectRefused(t, login, "no secret vaulted for " + login, roles);

  // A changed host key is refused before any secret is offered: the
  // restarted server never hears the account's name.
  ASSERT_EQ(set_good().exit_code, 0);
  ASSERT_TRUE((*server)->RestartWithNewHostKey().ok());
  ASSERT_NE((*server)->host_key(), host_key);
  SshUser g = NewUser(roles);
  CommandResult changed = Ssh(g, g.name + ":" + t, {"true"});
  EXPECT_NE(changed.exit_code, 0) << Describe(changed);
  EXPECT_THAT(changed.out + changed.err, HasSubstr("host key of " + t + " changed"))
      << Describe(changed);
  auto mismatch = WaitForEvent("target.host_key_mismatch", [&](const nlohmann::json& ev) {
    return ev["actor"] == g.name && ev["subject"] == t;
  });
  EXPECT_TRUE(mismatch.has_value()) << DumpEvents("target.");
  EXPECT_THAT((*server)->log(), Not(HasSubstr(login))) << (*server)->log();
  show = Admin({"targets", "show", t});
  EXPECT_THAT(show.out, HasSubstr("host key: " + host_key)) << Describe(show);
}

INSTANTIATE_TEST_SUITE_P(
    Targets, VaultedTargetTest,
    ::testing::Values(
        VaultedCase{"SshdPasswordOnly", TargetServer::kSshd, VaultedAuth::kPassword, "pcvault3", ""},
        VaultedCase{"DropbearPassword", TargetServer::kDropbear, VaultedAuth::kPassword, "pcvault4",
                    ""},
        VaultedCase{"DropbearEd25519Key", TargetServer::kDropbear, VaultedAuth::kKey, "pcvault5",
                    "ed25519"},
        VaultedCase{"SshdRsaKey", TargetServer::kSshd, VaultedAuth::kKey, "pcvault6", "rsa"}),
    [](const ::testing::TestParamInfo<VaultedCase>& info) { return info.param.name; });

// --- Key types ---

// Trust on first use pins the key the target presents before any secret is
// sent: a first login that fails (a wrong secret) still pins it, so a later
// impostor is refused without being offered the secret.
TEST_F(VaultTargetsTest, AFailedFirstLoginStillPinsTheHostKeyBeforeAnySecretIsSent) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string login = "pcvault9";
  auto account = LocalAccount::Create(login, kAccountPassword);
  ASSERT_TRUE(account.ok()) << account.status();
  auto server = VaultedServer::Start(TargetServer::kSshd, VaultedAuth::kPassword);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::vector<std::string> roles = {"vault-pin"};
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("vault-pin", login)));
  const std::string t = "vt-pin";
  ASSERT_EQ(AddTarget(t, (*server)->address(), {"--auth", "password", "--label", "site=plant-a"})
                .exit_code,
            0);
  ASSERT_EQ(SetPassword(t, login, "Wrong-pw-0000-zz").exit_code, 0);
  ExpectRefused(t, login, "target refused the vaulted password", roles);
  const std::string host_key = (*server)->host_key();
  CommandResult show = Admin({"targets", "show", t});
  EXPECT_THAT(show.out, HasSubstr("host key: " + host_key)) << Describe(show);
  auto pinned = WaitForEvent("target.host_key_pinned",
                             [&](const nlohmann::json& e) { return e["subject"] == t; });
  ASSERT_TRUE(pinned.has_value()) << DumpEvents("target.");

  // An impostor on the same address with another host key hears no login.
  ASSERT_EQ(SetPassword(t, login, kAccountPassword).exit_code, 0);
  ASSERT_TRUE((*server)->RestartWithNewHostKey().ok());
  SshUser u = NewUser(roles);
  CommandResult r = Ssh(u, u.name + ":" + t, {"true"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out + r.err, HasSubstr("host key of " + t + " changed")) << Describe(r);
  EXPECT_THAT((*server)->log(), Not(HasSubstr(login))) << (*server)->log();
}

TEST_F(VaultTargetsTest, RsaAndEcdsaVaultedKeysLogInToSshdAndDropbear) {
  ASSERT_TRUE(DropbearFixture::Available()) << "dropbear-bin is needed (.ci/deps.sh installs it)";
  ASSERT_NO_FATAL_FAILURE(StartAll());
  constexpr char kLogin[] = "pcvault7";
  auto account = LocalAccount::Create(kLogin, kAccountPassword);
  ASSERT_TRUE(account.ok()) << account.status();
  struct Key {
    const char* type;
    int bits;
  };
  const std::vector<Key> keys = {{"rsa", 2048}, {"rsa", 4096}, {"ecdsa", 256},
                                 {"ecdsa", 384}, {"ecdsa", 521}};
  std::string authorized;
  for (const auto& k : keys) {
    auto pub = GenerateKeyPair(broker().Join(fmt::format("{}{}", k.type, k.bits)), k.type, k.bits);
    ASSERT_TRUE(pub.ok()) << pub.status();
    authorized += *pub;
  }
  ASSERT_TRUE((*account)->AuthorizeKeys(authorized).ok());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("vault-ops", kLogin)));
  for (TargetServer s : {TargetServer::kSshd, TargetServer::kDropbear}) {
    auto server = VaultedServer::Start(s, VaultedAuth::kKey);
    ASSERT_TRUE(server.ok()) << server.status();
    const std::string t = fmt::format("{}-keys", ServerName(s));
    ASSERT_EQ(AddTarget(t, (*server)->address(), {"--auth", "key", "--label", "site=plant-a"})
                  .exit_code,
              0);
    for (const auto& k : keys) {
      SCOPED_TRACE(fmt::format("{}: {}-{}", ServerName(s), k.type, k.bits));
      CommandResult set = SetKey(t, kLogin, broker().Join(fmt::format("{}{}", k.type, k.bits)));
      ASSERT_EQ(set.exit_code, 0) << Describe(set);
      SshUser u = NewUser({"vault-ops"});
      CommandResult r = Ssh(u, u.name + ":" + t, {"id -un; exit 9"});
      EXPECT_EQ(r.exit_code, 9) << Describe(r) << DumpEvents("session.target_failed")
                                << (*server)->log();
      EXPECT_EQ(r.out, std::string(kLogin) + "\n");
    }
  }
}

// --- Faults ---

// The looping keyboard-interactive server (python3-paramiko), stopped by PID.
class LoopingKbdintServer {
 public:
  explicit LoopingKbdintServer(std::string log_path) : log_path_(std::move(log_path)) {}
  ~LoopingKbdintServer() { StopServer(pid_); }
  absl::Status Start() {
    port_ = PickFreePort();
    auto pid = SpawnServer({kPython, std::string(PC_SOURCE_DIR) +
                                         "/tests/integration/kbdint_loop_server.py",
                            "--port", std::to_string(port_)},
                           log_path_);
    if (!pid.ok()) return pid.status();
    pid_ = *pid;
    const std::string listening = fmt::format("listening on {}", port_);
    return WaitServerReady(
        pid_, "the looping server",
        [&] { return log().find(listening) != std::string::npos && PortAccepts(port_); },
        [&] { return log(); }, std::chrono::seconds(20), nullptr);
  }
  int port() const { return port_; }
  std::string log() const {
    auto text = ReadWholeFile(log_path_);
    return text.ok() ? *text : std::string();
  }
  // N of every "closed after N rounds" line with N > 0 (the readiness probe
  // sends nothing).
  std::vector<int> RoundsPerLogin() const {
    std::vector<int> out;
    const std::string text = log();
    static const std::regex re("closed after ([0-9]+) rounds");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
         it != std::sregex_iterator(); ++it) {
      const int n = std::stoi((*it)[1].str());
      if (n > 0) out.push_back(n);
    }
    return out;
  }

 private:
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(VaultTargetsTest, FaultsEndOnlyTheirSessionAndDoNotCountTowardLockout) {
  CommandResult py = RunCommand({kPython, "-c", "import paramiko"});
  ASSERT_EQ(py.exit_code, 0) << "python3-paramiko is needed (.ci/deps.sh installs it): "
                             << Describe(py);
  ASSERT_NO_FATAL_FAILURE(StartAll());
  LoopingKbdintServer looping(broker().Join("kbdint.log"));
  auto started = looping.Start();
  ASSERT_TRUE(started.ok()) << started;

  // The certificate target's sshd takes public keys only, and only
  // certificates from the broker's CA.
  const std::string sshd = fmt::format("127.0.0.1:{}", target().port());
  const std::vector<std::string> label = {"--label", "site=plant-a"};
  auto add = [&](const std::string& name, const std::string& address, const char* auth) {
    std::vector<std::string> extra = {"--auth", auth};
    extra.insert(extra.end(), label.begin(), label.end());
    CommandResult r = AddTarget(name, address, extra);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
  };
  add("nomethod-01", sshd, "password");
  add("badkey-01", sshd, "key");
  add("loop-01", fmt::format("127.0.0.1:{}", looping.port()), "password");
  const std::string key = broker().Join("refused_key");
  ASSERT_TRUE(GenerateKeyPair(key, "ed25519").ok());
  ASSERT_EQ(SetPassword("nomethod-01", login(), "Some-pw-1111-aa").exit_code, 0);
  ASSERT_EQ(SetKey("badkey-01", login(), key).exit_code, 0);
  ASSERT_EQ(SetPassword("loop-01", login(), "Some-pw-2222-bb").exit_code, 0);

  // One user, logged in once (password + code): every session below uses
  // its login certificate, so the failures are all of the same user.
  SshUser u = NewUser();
  const std::string home = broker().Home(u.name);
  CommandResult login_cli = broker().Login(home, u.name, u.password, TotpCode(u.secret));
  ASSERT_EQ(login_cli.exit_code, 0) << Describe(login_cli);
  const std::vector<std::string> cert = {"-i",
                                         home + "/id_ed25519",
                                         "-o",
                                         "CertificateFile=" + home + "/id_ed25519-cert.pub",
                                         "-o",
                                         "IdentitiesOnly=yes",
                                         "-o",
                                         "PreferredAuthentications=publickey",
                                         "-o",
                                         "BatchMode=yes"};
  auto cert_ssh = [&](const std::string& target, const std::vector<std::string>& command) {
    return RunCommand(SshArgv(u.name + ":" + target, command, cert), "", std::chrono::seconds(60));
  };

  // A shell on the certificate target stays up through all of it.
  std::vector<std::string> pty_extra = {"-tt"};
  pty_extra.insert(pty_extra.end(), cert.begin(), cert.end());
  auto live = PtyProcess::Start(SshArgv(u.name + ":rtu-01", {}, pty_extra));
  ASSERT_TRUE(live.ok()) << live.status();
  ASSERT_TRUE((*live)->Write("echo before-$((1+1))\r"));
  ASSERT_TRUE((*live)->ReadUntil("before-2")) << (*live)->output();

  struct Fault {
    std::string target;
    std::string reason;
  };
  const std::vector<Fault> faults = {
      {"nomethod-01", "target offers none of: password, keyboard-interactive"},
      {"badkey-01", "target refused the vaulted key"},
      {"loop-01", fmt::format("target kept asking (more than {} keyboard-interactive rounds)",
                              kMaxKbdintRounds)},
  };
  int failures = 0;
  for (int round = 0; round < 2; ++round) {
    for (const auto& f : faults) {
      SCOPED_TRACE(f.target);
      const auto start = SteadyClock::now();
      CommandResult r = cert_ssh(f.target, {"true"});
      EXPECT_NE(r.exit_code, 0) << Describe(r);
      EXPECT_EQ(Count(r.out + r.err, Refusal(f.target, login())), 1u) << Describe(r);
      EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(15));
      ++failures;
    }
  }
  ASSERT_GT(failures, broker().options().lockout_failures);
  for (const auto& f : faults) {
    size_t rows = 0;
    for (const auto& e : AuditEvents("session.target_failed")) {
      if (e["actor"] == u.name && e["subject"] == f.target && DetailIs(e, "reason", f.reason))
        ++rows;
    }
    EXPECT_EQ(rows, 2u) << f.target << "\n" << DumpEvents("session.target_failed");
  }
  // The broker answered at most kMaxKbdintRounds rounds per login.
  std::vector<int> rounds;
  for (auto deadline = SteadyClock::now() + std::chrono::seconds(5);
       SteadyClock::now() < deadline; std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    rounds = looping.RoundsPerLogin();
    if (rounds.size() >= 2) break;
  }
  ASSERT_EQ(rounds.size(), 2u) << looping.log();
  for (int n : rounds) EXPECT_LE(n, kMaxKbdintRounds) << looping.log();

  // The other session never noticed.
  ASSERT_TRUE((*live)->Write("echo after-$((2+2))\r"));
  EXPECT_TRUE((*live)->ReadUntil("after-4")) << (*live)->output();
  ASSERT_TRUE((*live)->Write("exit 0\r"));
  EXPECT_EQ((*live)->WaitExit(), 0) << (*live)->output();

  // Not locked out: no lockout row, a certificate target still works, and
  // so does a password + code login.
  for (const auto& e : AuditEvents("auth.lockout")) EXPECT_NE(e["subject"], u.name) << e.dump();
  CommandResult ok = cert_ssh("rtu-01", {"echo ok; exit 7"});
  EXPECT_EQ(ok.exit_code, 7) << Describe(ok);
  EXPECT_EQ(ok.out, "ok\n");
  CommandResult again =
      broker().Login(broker().Home(u.name + "-again"), u.name, u.password, TotpCode(u.secret, 1));
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
}

}  // namespace
}  // namespace portcullis::testing
